"""JSON authentication for the PWA."""
from __future__ import annotations

from flask import Blueprint, current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import generate_csrf

from app.apidoc import doc
from app.db import write_lock_at_first_write
from app.errors import DomainError
from app.jsonio import JsonLimit
from app.policy import Action, authorize

from . import language, services, sso, throttle
from .audit import audit
from .schemas import CsrfSchema, LoginSchema, PasswordChangeSchema, UserSchema
from .sessions import start_session
from .sso import SSO_KEY

bp = Blueprint("auth_api", __name__, url_prefix="/api")

# A username (64 characters) and a password (256), even with every character escaped: an anonymous
# request costs no more than this to read and parse.
LOGIN_BODY = JsonLimit(max_bytes=4 * 1024, max_items=16)
PASSWORD_BODY = JsonLimit(max_bytes=8 * 1024, max_items=16)


class LoginFailed(DomainError):
    status = 401
    code = "login_failed"


@bp.get("/csrf")
@doc("A fresh CSRF token for the X-CSRFToken header", response=CsrfSchema, auth=False)
def csrf_token():
    return {"csrf_token": generate_csrf()}


@bp.post("/login")
@write_lock_at_first_write  # the password is checked between the throttle's short writes
@doc("Log in; answers the user and a fresh CSRF token", request=LoginSchema, response=UserSchema,
     responses={401: "Wrong username or password",
                429: "Too many failed logins for this account (from this device) or address; see Retry-After"},
     auth=False, json_limit=LOGIN_BODY)
def login():
    data, config = LoginSchema().load(request.get_json(silent=True) or {}), current_app.config
    user = throttle.authenticate(data["username"], data["password"], request.remote_addr, config,
                                 device=throttle.known_device(request.cookies, data["username"], config))
    if user is not None and not sso.local_login_allowed(user, config):  # as the login page (views.login)
        audit("login_refused", user_id=user.id, reason="local_login_off")
        user = None
    if user is None:
        raise LoginFailed(_("Wrong username or password."))
    start_session(user)
    body = UserSchema().dump(user)
    body["csrf_token"] = generate_csrf()
    response = current_app.json.response(body)
    throttle.remember_device(response, request.cookies, user.username, config)
    language.remember_at_login(user, response)  # as the login page does
    return response


@bp.post("/logout")
@login_required
@doc("Log out and end every session of this user", responses={204: "Logged out"}, status=204)
def logout():
    sso.end_session(session.get(SSO_KEY), "logout")  # a campus login's record too (the provider's stays: see README)
    services.end_all_sessions(services.get_user(current_user.id))  # the ORM user: this changes it
    logout_user()
    session.clear()
    return "", 204


_USER = UserSchema()  # built once (stateless for dump)


@bp.get("/me")
@login_required
@doc("The logged-in user with roles", response=UserSchema)
def me():
    return _USER.dump(current_user._get_current_object())  # the object, not the proxy: ~10 reads


@bp.post("/me/password")
@write_lock_at_first_write  # the passwords are hashed between short writes (see throttle.py)
@login_required
@doc("Change one's own password: every session of the user ends, this one is renewed (a new CSRF token)",
     request=PasswordChangeSchema, response=CsrfSchema,
     responses={400: "The current password is wrong, or the new one is too short or unchanged",
                429: "Too many wrong passwords for this account; see Retry-After"}, json_limit=PASSWORD_BODY)
def change_password():
    authorize(current_user, Action.CHANGE_PASSWORD, current_user)
    data = PasswordChangeSchema().load(request.get_json(silent=True) or {})
    user = services.change_password(services.get_user(current_user.id), data["current_password"], data["new_password"],
                                    address=request.remote_addr, config=current_app.config,
                                    device=throttle.known_device(request.cookies, current_user.username,
                                                                 current_app.config))
    start_session(user)
    return {"csrf_token": generate_csrf()}

"""Login and logout pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from marshmallow import ValidationError

from app.db import write_lock_at_first_write
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.policy import Action, authorize

from . import labels, language, services, sso, throttle
from .audit import audit
from .schemas import FirstPasswordForm, OwnPasswordForm
from .sessions import start_session

bp = Blueprint("auth", __name__)


@bp.app_template_filter("role_label")
def _role_label(value):
    return labels.role_label(value)


# Each kind of landing page (services.landing) and where it is.
_LANDING_PAGES = {
    "home": ("pwa.home", {}),  # today's daily checks and the tickets to fix (art. 29)
    "scan": ("pwa.scan", {}),
    "review": ("pwa.tickets", {"state": "fix_submitted"}),  # fixes waiting for verification
    "tickets": ("pwa.tickets", {}),
    "summary": ("reports.monthly", {}),
}


def landing_url(user) -> str:
    """Where this user's daily work is: the page they land on after login, and at "/"."""
    endpoint, args = _LANDING_PAGES[services.landing(user)]
    if endpoint not in current_app.view_functions:  # an app built without that area
        endpoint, args = "pwa.home", {}
    return url_for(endpoint, **args)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
@write_lock_at_first_write  # the password is checked between the throttle's short writes
def login():
    error = None
    if request.method == "POST":
        # Throttled per account, known device and address: 429 with Retry-After while locked.
        config, username = current_app.config, request.form.get("username", "")
        user = throttle.authenticate(username, request.form.get("password", ""), request.remote_addr, config,
                                     device=throttle.known_device(request.cookies, username, config))
        if user is not None and not sso.local_login_allowed(user, config):
            audit("login_refused", user_id=user.id, reason="local_login_off")
            user = None  # answered as a wrong password: the page says who logs in how
        if user is None:
            error = _("Wrong username or password.")
        else:
            start_session(user)  # a new session at login: no fixation
            # An explicit `next` (a scanned door QR, a link) wins over the role's landing page.
            response = redirect(safe_next(request.form.get("next") or request.args.get("next"), landing_url(user)))
            throttle.remember_device(response, request.cookies, user.username, config)
            language.remember_at_login(user, response)
            return response
    config = current_app.config
    return render_template("auth/login.html", error=error, next=request.args.get("next", ""),
                           campus_logins=sso.enabled_protocols(config),
                           local_restricted=sso.local_login_restricted(config)), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    # The campus login's logout module imports this one (landing_url, safe_next): imported here.
    from .sso_views import SSO_KEY, provider_logout_url

    provider = provider_logout_url(session.get(SSO_KEY))  # ends the SSO session; the provider's too, if it can
    services.end_all_sessions(services.get_user(current_user.id))  # the ORM user: this changes it
    logout_user()
    session.clear()
    flash(_("You have logged out."))
    return redirect(provider or url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@write_lock_at_first_write  # the passwords are hashed between short writes (see throttle.py)
@login_required
def password():
    """Change one's own password; the other devices are logged out, this one stays in."""
    authorize(current_user, Action.CHANGE_PASSWORD, current_user)
    error, status, retry_after = None, 200, None
    if request.method == "POST":
        try:
            form = OwnPasswordForm().load(request.form)
            if form["new_password"] != form["confirm_password"]:
                raise InvalidInput(_("The two new passwords differ."))
            user = services.change_password(
                services.get_user(current_user.id), form["current_password"], form["new_password"],
                address=request.remote_addr, config=current_app.config,
                device=throttle.known_device(request.cookies, current_user.username, current_app.config))
        except ValidationError:
            error, status = _("Fill in every field."), 400
        except DomainError as err:
            db.session.rollback()
            error, status = err.message, err.status
            retry_after = getattr(err, "retry_after", None)  # the account's login throttle: 429
        else:
            start_session(user)
            flash(_("Your password is changed. Your other devices are logged out."))
            return redirect(landing_url(current_user))
    response = make_response(render_template("auth/password.html", error=error,
                                             min_password_length=services.MIN_PASSWORD_LENGTH), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route(services.SET_PASSWORD_PATH.format(token="<token>"), methods=["GET", "POST"])
@write_lock_at_first_write  # the new password is hashed before the one short write
def set_password(token: str):
    """A user imported without a password chooses one through the link the lab office gave them.
    No login: the signed link is the credential (services.user_for_set_password_token)."""
    error, status, user = None, 200, None
    try:
        user = services.user_for_set_password_token(token, current_app.config)
        if request.method == "POST":
            form = FirstPasswordForm().load(request.form)
            if form["new_password"] != form["confirm_password"]:
                raise InvalidInput(_("The two new passwords differ."))
            services.set_first_password(token, form["new_password"], current_app.config)
            flash(_("Your password is set. Log in with it."))
            return redirect(url_for("auth.login"))
    except ValidationError:
        error, status = _("Fill in every field."), 400
    except DomainError as err:
        db.session.rollback()
        error, status = err.message, err.status
        if user is not None and user.has_password:
            user = None
    if user is not None and not user.active:
        user = None
    response = make_response(render_template("auth/set_password.html", error=error, user=user,
                                             min_password_length=services.MIN_PASSWORD_LENGTH), status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is a credential: never pass it on
    return response


@bp.post("/lang/<code>")
def set_language(code: str):
    """Switch the language on this device (a cookie) and, when signed in, for the user too."""
    languages = current_app.config["LANGUAGES"]
    if code not in languages:
        raise InvalidInput(_("Unknown language."))
    if current_user.is_authenticated:
        services.set_user_locale(current_user.id, code, languages)
    back = (
        request.form.get("next") or request.args.get("next") or (request.referrer and urlsplit(request.referrer).path)
    )
    response = redirect(safe_next(back, url_for("pwa.home" if current_user.is_authenticated else "auth.login")))
    language.set_device_language(response, code)
    return response

"""Login and logout pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.transactions import write_lock_at_first_write

from . import services, throttle

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return url_for("org.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("org.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@write_lock_at_first_write  # the password is checked between the throttle's short writes
def login():
    error = None
    if request.method == "POST":
        # Throttled per account and address (issue 8): 429 with Retry-After while locked.
        user = throttle.authenticate(
            request.form.get("username", ""), request.form.get("password", ""), request.remote_addr, current_app.config
        )
        if user is None:
            error = _("Wrong username or password.")
        else:
            session.clear()  # a new session at login: no fixation
            login_user(user)
            session.permanent = True
            return redirect(safe_next(request.form.get("next") or request.args.get("next")))
    return render_template("auth/login.html", error=error, next=request.args.get("next", "")), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    services.end_all_sessions(services.get_user(current_user.id))  # the ORM user: this changes it
    logout_user()
    session.clear()
    flash(_("You have logged out."))
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    from flask import current_app

    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))

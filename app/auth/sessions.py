"""Session lifetime: inactivity and absolute timeouts, the login and logout audit.

Ending sessions on logout and password change is the User.session_version bump (see
services.end_all_sessions): the version is part of the Flask-Login id, so every copy of an older
cookie loads no user. Here the session also carries when it logged in and when it was last
seen; a session idle longer than SESSION_IDLE_MINUTES, or older than PERMANENT_SESSION_LIFETIME,
is cleared before the view runs, so the request continues as anonymous (401 / login page).
"""
from __future__ import annotations

import time

from flask import Flask, current_app, session
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import event

from .audit import audit
from .models import User

LOGIN_AT = "_ls_login_at"
LAST_SEEN = "_ls_seen"
# "Last seen" is rewritten at most once a minute, or every tenth of the idle timeout when that is
# shorter: with SESSION_REFRESH_EACH_REQUEST off the cookie is then re-signed once a minute instead
# of on every response (about 0.7 ms of CPU per request), and a session ends at most a tenth of
# its timeout early (a user active every 45 s stays in with a 1-minute timeout).
SEEN_RESOLUTION = 60


def seen_resolution(config) -> int:
    """Seconds between two rewrites of "last seen"."""
    return max(1, min(SEEN_RESOLUTION, int(config["SESSION_IDLE_MINUTES"]) * 60 // 10))


def now() -> int:
    """Seconds since the epoch; tests replace it to travel in time."""
    return int(time.time())


def _on_login(sender, user, **extra):
    t = now()
    session[LOGIN_AT] = t
    session[LAST_SEEN] = t
    audit("login_ok", user_id=user.id)


def _on_logout(sender, user, **extra):
    audit("logout", user_id=getattr(user, "id", None))


def expiry_reason(data, config, at: int) -> str | None:
    """Why this logged-in session is over ("idle", "absolute"), or None while it is alive."""
    login_at, seen = data.get(LOGIN_AT), data.get(LAST_SEEN)
    if not isinstance(login_at, int) or not isinstance(seen, int):
        return "unstamped"  # not made by our login: refuse rather than guess its age
    if at - seen > int(config["SESSION_IDLE_MINUTES"]) * 60:
        return "idle"
    if at - login_at > config["PERMANENT_SESSION_LIFETIME"].total_seconds():
        return "absolute"
    return None


def _enforce_timeouts():
    if "_user_id" not in session:
        return None
    t = now()
    reason = expiry_reason(session, current_app.config, t)
    if reason:
        user_id = str(session.get("_user_id", "")).split(":", 1)[0]
        session.clear()  # before anything loads current_user: the view sees an anonymous user
        audit("session_expired", user_id=int(user_id) if user_id.isdigit() else None, reason=reason)
        return None
    if t - session.get(LAST_SEEN, 0) >= seen_resolution(current_app.config):
        session[LAST_SEEN] = t
    return None


def start_session(user) -> None:
    """Log this device in with a new session (no fixation): at login, and after a password change ended
    every session of the user, this one included (the new login time, the user's new session version)."""
    from flask_login import login_user

    session.clear()
    login_user(user)
    session.permanent = True


def _password_hash_changed(target, value, oldvalue, initiator):
    # A password change (not the first password of a new user) is an authentication event.
    if target.id is not None and isinstance(oldvalue, str) and oldvalue != value:
        audit("password_changed", user_id=target.id)


_connected = False


def init_app(app: Flask) -> None:
    global _connected
    if not _connected:  # signals and mapper events are process-wide; connect once
        user_logged_in.connect(_on_login)
        user_logged_out.connect(_on_logout)
        event.listen(User.password_hash, "set", _password_hash_changed, active_history=True)
        _connected = True
    # Run first, before any other hook can load current_user from an expired session.
    app.before_request_funcs.setdefault(None, []).insert(0, _enforce_timeouts)

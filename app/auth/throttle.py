"""Login throttling per account and per address, counted in the database (issue 8).

The counter lives in ``login_attempts`` (one row per failed login) so every gunicorn worker sees
the same count. An account is locked after LOGIN_MAX_FAILURES failures within LOGIN_LOCK_MINUTES;
an address after LOGIN_MAX_FAILURES_PER_ADDRESS. While locked even the right password is refused
with 429 and Retry-After; the lock lifts by itself as the failures age out of the window.

An attempt is written down (and committed) *before* its password is checked, without its address,
and deleted again when it succeeds; a failure then adds its address. So attempts at one account
sent at once count each other (the account's limit holds exactly however many are sent in
parallel), while many people logging in at once from one address (a campus NAT) are not counted
against it until they fail. And the ~130 ms of password hashing run after the short write, not
inside it: on SQLite the database's single write lock stays free while a password is verified (the
login views take it at their first write); before, each login held it for the whole hash, and a few
users logging in at once starved every inspection submit into "database is locked".
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.errors import DomainError
from app.extensions import db
from app.timeutil import utcnow

from . import services
from .audit import audit
from .models import LoginAttempt, User


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _retry_after(column, value: str, limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until fewer than ``limit`` failures remain in the window (0 = not locked)."""
    if limit <= 0:
        return 0
    since = now - window
    times = list(
        db.session.scalars(
            select(LoginAttempt.attempted_at)
            .where(column == value, LoginAttempt.attempted_at > since)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        )
    )
    if len(times) < limit:
        return 0
    # The lock lifts when the limit-th most recent failure leaves the window.
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))


def check(username: str, address: str, config) -> None:
    """Raise TooManyAttempts when this account or this address is locked."""
    now = utcnow()
    window = timedelta(minutes=config.get("LOGIN_LOCK_MINUTES", 15))
    wait = max(
        _retry_after(LoginAttempt.username, _norm(username), config.get("LOGIN_MAX_FAILURES", 5), window, now),
        _retry_after(LoginAttempt.address, address, config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20), window, now),
    )
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        raise TooManyAttempts(
            _("Too many failed logins. Try again in %(minutes)d minutes.", minutes=minutes), retry_after=wait
        )


def _claim(username: str, config) -> LoginAttempt:
    """Write this attempt down for its account (committed), and drop the rows that left the window."""
    now = utcnow()
    window = timedelta(minutes=config.get("LOGIN_LOCK_MINUTES", 15))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - window))
    attempt = LoginAttempt(username=_norm(username), address="", attempted_at=now)  # "": in flight
    db.session.add(attempt)
    db.session.commit()
    return attempt


def clear_account(username: str) -> None:
    """A successful login forgets that account's failures (the address's stay)."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == _norm(username)))
    db.session.commit()


def authenticate(username: str, password: str, address: str, config) -> User | None:
    """services.authenticate behind the throttle: the user, None for wrong credentials, or
    TooManyAttempts (checked before the password, so a locked account reveals nothing)."""
    address = address or "unknown"
    try:
        check(username, address, config)
    except TooManyAttempts as err:
        audit("login_locked", username=_norm(username), retry_after=err.retry_after)
        raise
    attempt = _claim(username, config)
    user = services.authenticate(username, password)
    if user is None:
        attempt.address = address[:64]  # a failure now counts against its address too
        db.session.commit()
        audit("login_failed", username=_norm(username))
        return None
    clear_account(username)  # this attempt's row with the account's earlier failures
    return user

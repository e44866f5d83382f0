"""Login throttling per account, per known device and per address, counted in the database.

The counter lives in ``login_attempts`` (one row per failed login) so every gunicorn worker sees
the same count. Three limits, all over the last LOGIN_LOCK_MINUTES:

- **an account, from devices it does not know**: LOGIN_MAX_FAILURES failures lock it for such
  devices; while locked even the right password is refused (429 with Retry-After), so guesses from
  any number of addresses share one budget;
- **an account, from one of its known devices** (a signed cookie set at a successful login for that
  username, ``known_device``): its own LOGIN_MAX_FAILURES, per device. So a stranger's wrong
  passwords never lock out the people who have logged in on their phone or PC before;
- **an address, for devices unknown to the account**: past LOGIN_MAX_FAILURES_PER_ADDRESS failures
  (password spraying, one guess per account) it is slowed down to one attempt per
  LOCK_MINUTES / that limit, not locked: a campus NAT puts a whole building behind one address.

Each attempt is written down (committed) *before* it is counted and before its password is checked,
then counted with itself: attempts at one account sent at once count each other, and the limit holds
exactly however many are sent in parallel (a burst may be refused whole; never one guess too many).
A refused attempt's row is deleted (a refusal is not a guess); a successful one deletes the rows it
was counted with (a known device's own, or the account's from unknown devices). An attempt from an
unknown device carries no address until it fails, so many people logging in at once behind one
address are not counted against it until they fail. And the ~130 ms of password hashing run after
the short write, not inside it: on SQLite the database's single write lock stays free while a
password is verified (the login views take it at their first write). Every refused login, throttled
ones included, costs one password check, so timing tells nothing (services.authenticate).
"""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, insert, select, update

from app.errors import DomainError
from app.extensions import db
from app.timeutil import utcnow

from . import services
from .audit import audit
from .models import LoginAttempt, User

# LoginAttempt.address of an attempt from a known device: the device, not the network address.
DEVICE = "device:"
_KNOWN_USERS_PER_DEVICE = 10  # a shared phone remembers this many accounts


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _window(config) -> timedelta:
    return timedelta(minutes=config.get("LOGIN_LOCK_MINUTES", 15))


def _locked_for(where, limit: int, window: timedelta, now: datetime, attempt_id: int) -> int:
    """Seconds until fewer than ``limit`` other attempts matching ``where`` remain in the window
    (0 = not locked); the lock lifts when the limit-th most recent one leaves the window."""
    if limit <= 0:
        return 0
    times = list(
        db.session.scalars(
            select(LoginAttempt.attempted_at)
            .where(where, LoginAttempt.attempted_at > now - window, LoginAttempt.id != attempt_id)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        )
    )
    if len(times) < limit:
        return 0
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))


def _slowed_for(address: str, limit: int, window: timedelta, now: datetime) -> int:
    """Seconds this address waits: 0 under ``limit`` failures in the window, else until its latest
    failure is window / limit old (one attempt per such interval, however long the attack lasts)."""
    if limit <= 0:
        return 0
    where = (LoginAttempt.address == address, LoginAttempt.attempted_at > now - window)
    count, latest = db.session.execute(
        select(func.count(), func.max(LoginAttempt.attempted_at)).where(*where)
    ).one()
    if count < limit:
        return 0
    return max(0, math.ceil((latest + window / limit - now).total_seconds()))


@dataclass(frozen=True)
class _Attempt:
    """This attempt's row as claimed. Plain values, not the entity: a concurrent successful login of
    the same account deletes the in-flight rows it was counted with (``_clear``), and an entity whose
    row is gone fails on its next read or write (a 500), where an UPDATE or DELETE by id just matches
    nothing."""

    id: int
    username: str
    address: str
    attempted_at: datetime


def _wait(attempt: _Attempt, address: str, config) -> int:
    """Seconds this attempt must wait (0 = go ahead), its own row counted with the others'."""
    now, window, limit = utcnow(), _window(config), config.get("LOGIN_MAX_FAILURES", 5)
    same_account = LoginAttempt.username == attempt.username
    if attempt.address.startswith(DEVICE):  # a known device: its own failures only
        return _locked_for(same_account & (LoginAttempt.address == attempt.address), limit, window, now, attempt.id)
    unknown_devices = same_account & LoginAttempt.address.not_like(f"{DEVICE}%")
    return max(
        _locked_for(unknown_devices, limit, window, now, attempt.id),
        _slowed_for(address, config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20), window, now),
    )


def _claim(username: str, device: str | None, config) -> _Attempt:
    """Write this attempt down (committed), and drop the rows that left the window."""
    now = utcnow()
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - _window(config)))
    # An unknown device's attempt has no address until it fails ("": in flight).
    values = {"username": _norm(username), "address": f"{DEVICE}{device}" if device else "", "attempted_at": now}
    attempt_id = db.session.execute(insert(LoginAttempt).values(**values).returning(LoginAttempt.id)).scalar_one()
    db.session.commit()
    return _Attempt(id=attempt_id, **values)


def _count_failure(attempt: _Attempt, address: str) -> None:
    """The attempt failed: it counts against its address too. If a concurrent successful login of the
    account has deleted its in-flight row meanwhile, the failure is written again (it still counts)."""
    moved = db.session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(address=address))
    if moved.rowcount == 0:
        db.session.execute(insert(LoginAttempt).values(username=attempt.username, address=address,
                                                       attempted_at=attempt.attempted_at))


def _clear(attempt: _Attempt) -> None:
    """A successful login forgets the failures it was counted with: a known device's own, or the
    account's from unknown devices (a stranger's guesses stay when the owner logs in on their phone)."""
    same_account = LoginAttempt.username == attempt.username
    if attempt.address.startswith(DEVICE):
        same_source = LoginAttempt.address == attempt.address
    else:
        same_source = LoginAttempt.address.not_like(f"{DEVICE}%")
    db.session.execute(delete(LoginAttempt).where(same_account & same_source))
    db.session.commit()


def authenticate(username: str, password: str, address: str, config, device: str | None = None) -> User | None:
    """services.authenticate behind the throttle: the user, None for wrong credentials, or
    TooManyAttempts. ``device``: the id ``known_device`` found for this username, if any."""
    address = (address or "unknown")[:64]
    attempt = _claim(username, device, config)
    wait = _wait(attempt, address, config)
    if wait:
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))  # a refusal is not a guess
        db.session.commit()
        services.check_no_password(password)  # as long as a wrong password: timing tells nothing
        audit("login_locked", username=_norm(username), retry_after=wait)
        minutes = max(1, math.ceil(wait / 60))
        raise TooManyAttempts(
            _("Too many failed logins. Try again in %(minutes)d minutes.", minutes=minutes)
            if wait > 60 else _("Too many failed logins. Try again in %(seconds)d seconds.", seconds=wait),
            retry_after=wait,
        )
    user = services.authenticate(username, password)
    if user is None:
        if not device:
            _count_failure(attempt, address)
        db.session.commit()
        audit("login_failed", username=_norm(username))
        return None
    _clear(attempt)  # this attempt's row with the earlier failures it was counted with
    return user


# ---- known devices --------------------------------------------------------------------------------
# A signed cookie, set at a successful login, naming the device (a random id) and the accounts that
# logged in on it (a short hash of each username, not the name). Not a session: it lets no one in,
# it only puts that account's attempts from this device under the device's own limit.

def _serializer(config) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt="labsafe-known-device")


def _account_mark(username: str) -> str:
    return hashlib.sha256(_norm(username).encode()).hexdigest()[:16]


def _read_device(cookies, config) -> dict | None:
    cookie = cookies.get(config["KNOWN_DEVICE_COOKIE_NAME"])
    if not cookie:
        return None
    try:
        data = _serializer(config).loads(cookie, max_age=config.get("LOGIN_KNOWN_DEVICE_DAYS", 180) * 86400)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("u"), list):
        return None
    return data


def known_device(cookies, username: str, config) -> str | None:
    """The device id when the request's cookie is ours, unexpired, and ``username`` logged in on it."""
    data = _read_device(cookies, config)
    return data["d"] if data and _account_mark(username) in data["u"] else None


def remember_device(response, cookies, username: str, config) -> None:
    """After a successful login: (re)set the cookie, with this account first and a new expiry."""
    data = _read_device(cookies, config) or {"d": secrets.token_urlsafe(16), "u": []}
    mark = _account_mark(username)
    accounts = [mark] + [m for m in data["u"] if m != mark][: _KNOWN_USERS_PER_DEVICE - 1]
    response.set_cookie(
        config["KNOWN_DEVICE_COOKIE_NAME"],
        _serializer(config).dumps({"d": data["d"], "u": accounts}),
        max_age=config.get("LOGIN_KNOWN_DEVICE_DAYS", 180) * 86400,
        path="/",
        secure=bool(config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )

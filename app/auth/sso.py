"""Single sign-on with the campus identity service (统一身份认证; issue 25): which campus account is
which LabSafe user, and the SSO sessions that the provider's logout can end.

No Flask request here: the views (sso_views.py) speak CAS and OpenID Connect and pass what the
provider vouched for as a ``CampusIdentity``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import DomainError
from app.extensions import db
from app.timeutil import utcnow

from .models import NO_PASSWORD, Role, SsoSession, User

MATCH_BY = ("staff_no", "email")
SSO_KEY = "_ls_sso"  # in the Flask session: the SsoSession id of this device's campus login
LOCAL_LOGIN = ("all", "admin")


class SsoRefused(DomainError):
    """A campus login LabSafe does not accept; ``reason`` is what the audit log records."""

    status = 403
    code = "sso_refused"

    def __init__(self, message: str, reason: str, status: int | None = None):
        super().__init__(message)
        self.reason = reason
        if status is not None:
            self.status = status


@dataclass(frozen=True)
class CampusIdentity:
    """What the provider vouched for: the account name it uses, and the attributes LabSafe reads."""

    protocol: str  # "cas" or "oidc"
    subject: str  # the CAS user / the OIDC sub
    staff_no: str | None
    email: str | None
    name: str | None


def enabled_protocols(config) -> list[str]:
    """The campus logins this site has configured, in the order the login page shows them."""
    out = []
    if config.get("CAS_SERVER_URL"):
        out.append("cas")
    if config.get("OIDC_DISCOVERY_URL") and config.get("OIDC_CLIENT_ID"):
        out.append("oidc")
    return out


def check_settings(config) -> None:
    """Refuse to start on a setting that cannot be read (create_app calls this)."""
    if config.get("SSO_MATCH_BY") not in MATCH_BY:
        raise RuntimeError(f"LABSAFE_SSO_MATCH_BY must be one of {', '.join(MATCH_BY)} "
                           f"(got {config.get('SSO_MATCH_BY')!r}).")
    if config.get("LOCAL_LOGIN") not in LOCAL_LOGIN:
        raise RuntimeError(f"LABSAFE_LOCAL_LOGIN must be one of {', '.join(LOCAL_LOGIN)} "
                           f"(got {config.get('LOCAL_LOGIN')!r}).")
    if str(config.get("CAS_VERSION")) not in ("2", "3"):
        raise RuntimeError(f"LABSAFE_CAS_VERSION must be 2 or 3 (got {config.get('CAS_VERSION')!r}).")


def local_login_restricted(config) -> bool:
    """Whether passwords are for school admins only (and a campus login exists for everyone else)."""
    return config.get("LOCAL_LOGIN") == "admin" and bool(enabled_protocols(config))


def local_login_allowed(user, config) -> bool:
    """Whether this user may log in with a LabSafe password on this site."""
    return not local_login_restricted(config) or user.has_role(Role.school_admin)


def _clean(value) -> str | None:
    if isinstance(value, list | tuple):  # CAS repeats an attribute with several values: the first
        value = value[0] if value else None
    value = str(value).strip() if value is not None else ""
    return value or None


def identity(protocol: str, subject: str, attributes: dict, *, staff_no_key: str, email_key: str,
             name_key: str) -> CampusIdentity:
    """A ``CampusIdentity`` from the provider's attributes (CAS) or claims (OIDC); an empty
    ``staff_no_key`` means the subject itself is the staff number."""
    attributes = attributes or {}
    staff_no = _clean(attributes.get(staff_no_key)) if staff_no_key else _clean(subject)
    return CampusIdentity(protocol=protocol, subject=str(subject), staff_no=staff_no,
                          email=_clean(attributes.get(email_key)), name=_clean(attributes.get(name_key)))


def find_user(who: CampusIdentity, match_by: str) -> User | None:
    """The LabSafe user of this campus account, by staff number or e-mail (case-insensitive)."""
    if match_by == "staff_no":
        if not who.staff_no:
            return None
        return db.session.scalar(select(User).where(User.staff_no == who.staff_no))
    if not who.email:
        return None
    found = db.session.scalars(select(User).where(func.lower(User.email) == who.email.lower()).limit(2)).all()
    if len(found) > 1:  # two users with one address: neither is sure, and provisioning must not add a third
        raise SsoRefused("", "ambiguous_email")
    return found[0] if found else None


def _free_username(base: str) -> str:
    base = "".join(c for c in base if c.isalnum() or c in "._-")[:56] or "campus"
    name, n = base, 1
    while db.session.scalar(select(User.id).where(func.lower(User.username) == name.lower())):
        n += 1
        name = f"{base}.{n}"
    return name


def provision(who: CampusIdentity, match_by: str) -> User:
    """A new LabSafe user for a campus account, with no roles and no password (the lab-management
    office grants roles). Only on sites that enable it (SSO_PROVISION)."""
    key = who.staff_no if match_by == "staff_no" else who.email
    if not key:
        raise SsoRefused("", "no_match_attribute")
    base = who.staff_no or (who.email or "").split("@")[0] or who.subject
    user = User(username=_free_username(base), name=(who.name or key)[:100], email=who.email,
                staff_no=who.staff_no if match_by == "staff_no" else None, password_hash=NO_PASSWORD)
    db.session.add(user)
    db.session.flush()
    return user


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def record_session(user_id: int, protocol: str, ticket: str, *, id_token: str | None = None) -> int:
    """The SSO session of this login, named by its ticket (CAS service ticket, or the OIDC ID token):
    a ticket seen before is refused (``SsoRefused`` "replayed"). Answers the row's id."""
    row = SsoSession(user_id=user_id, protocol=protocol, ticket_hash=ticket_hash(ticket), id_token=id_token)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise SsoRefused("", "replayed") from None
    return row.id


def end_session(session_id, reason: str) -> SsoSession | None:
    """End one SSO session (LabSafe's logout); answers it, or None when it was not live (or the
    session came through no campus login: ``session_id`` None)."""
    if not isinstance(session_id, int):
        return None
    row = db.session.get(SsoSession, session_id)
    if row is None or row.ended_at is not None:
        return None
    row.ended_at, row.end_reason = utcnow(), reason
    return row


def end_session_by_ticket(ticket: str, reason: str) -> int | None:
    """The provider's back-channel logout: end the session this ticket opened. Answers its user id,
    or None when no live session has that ticket."""
    row = db.session.scalar(select(SsoSession).where(SsoSession.ticket_hash == ticket_hash(ticket)))
    if row is None or row.ended_at is not None:
        return None
    db.session.execute(update(SsoSession).where(SsoSession.id == row.id).values(ended_at=utcnow(), end_reason=reason))
    return row.user_id


def session_ended(session_id) -> bool:
    """Whether the SSO session a cookie names is over (ended, or unknown)."""
    if not isinstance(session_id, int):
        return True
    ended = db.session.execute(select(SsoSession.ended_at).where(SsoSession.id == session_id)).first()
    return ended is None or ended[0] is not None

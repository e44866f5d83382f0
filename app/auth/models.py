"""Users and their roles with scope (art. 9, 10)."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import StrEnum, db
from app.policy import Role  # noqa: F401  (the policy's vocabulary, stored here)
from app.timeutil import utcnow


def hash_password(password: str) -> str:
    """The stored form of a password (werkzeug's scrypt: ~130 ms of CPU, on purpose)."""
    return generate_password_hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored form: the one place a password is checked."""
    return check_password_hash(password_hash, password)


# The stored "hash" of a user who has no password yet (imported without one): it matches no
# password, and the user chooses one through a set-password link (auth.services.set_password_links).
NO_PASSWORD = "!"


# A WeCom (企业微信) or DingTalk user id, as users.wecom_userid / dingtalk_userid hold it: letters, digits,
# _ . @ - and at most 64 characters. Checked the same on the user's channels page, the admin's user pages
# and the users CSV import.
MESSENGER_USERID_PATTERN = r"^[A-Za-z0-9_.@-]*$"
MESSENGER_USERID_MAX = 64


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    # 工号: the staff number the campus login (CAS/OIDC) names the person by (app/auth/sso.py).
    staff_no: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Messengers (app.notifications, issue 25): the user's WeCom (企业微信) and DingTalk user ids, and the
    # channels they chose for notices ("email,wecom,dingtalk" or a part of it; NULL follows the site's
    # NOTIFY_CHANNELS). In-app notices are always on.
    wecom_userid: Mapped[str | None] = mapped_column(String(64))
    dingtalk_userid: Mapped[str | None] = mapped_column(String(64))
    notify_channels: Mapped[str | None] = mapped_column(String(64))
    # Bumped on logout and password change: any session carrying an older value is dead.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    @property
    def has_password(self) -> bool:
        return self.password_hash != NO_PASSWORD

    def check_password(self, password: str) -> bool:
        return self.has_password and verify_password(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:
        # The session version is part of the id, so a bumped version logs every copy out.
        return f"{self.id}:{self.session_version}"

    def has_role(self, role: Role) -> bool:
        return any(r.role == role for r in self.roles)


class RoleAssignment(db.Model):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role", "college_id", "lab_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(StrEnum(Role))
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"), index=True)
    lab_id: Mapped[int | None] = mapped_column(ForeignKey("labs.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))

    user: Mapped[User] = relationship(back_populates="roles")


# Read models of the signed-in user: plain objects for the request's hot path, never written.


class RoleGrant(NamedTuple):
    """One role assignment of a ``Principal``, read like ``RoleAssignment`` (role, college_id, lab_id,
    department_id): a read model, loaded with the user in the same SELECT."""

    role: Role
    college_id: int | None
    lab_id: int | None
    department_id: int | None


class Principal:
    """The signed-in user as every logged-in request reads it: reads like ``User`` for everything a
    request asks of it (Flask-Login's interface, ``has_role``, ``roles``); it changes nothing.

    The policy and the services need only the id, the names and the role assignments; loading the
    ORM ``User`` for that (an entity, an identity-map entry, its roles collection) cost ~0.25 ms on
    every request. ``principal.load_principal`` builds this from one Core SELECT instead."""

    __slots__ = ("id", "username", "name", "email", "phone", "locale", "active", "session_version", "roles",
                 "_labsafe_scope")
    # Each a column of User by the same name and type; roles is User.roles read as RoleGrants
    # (tests/auth/test_read_models.py).
    id: int
    username: str
    name: str
    email: str | None
    phone: str | None
    locale: str | None
    active: bool
    session_version: int
    roles: tuple[RoleGrant, ...]
    is_authenticated = True
    is_anonymous = False

    def __init__(self, id, username, name, email, phone, locale, active, session_version, roles):  # noqa: A002
        self.id = id
        self.username = username
        self.name = name
        self.email = email
        self.phone = phone
        self.locale = locale
        self.active = active
        self.session_version = session_version
        self.roles = roles
        self._labsafe_scope = None  # policy.scope_of caches the user's scope here

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, role: Role) -> bool:
        return any(r.role == role for r in self.roles)

    def __repr__(self) -> str:
        return f"<Principal {self.id} {self.username}>"


class LoginAttempt(db.Model):
    """A failed login, or one whose password is being checked (address "" until it fails), kept in
    the database so the throttle holds across workers (see throttle.py).

    Rows older than the lock window are deleted as new attempts arrive.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "attempted_at"),
        Index("ix_login_attempts_address_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed, lower-cased; may name nobody
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SsoSession(db.Model):
    """A login through the campus identity service (app/auth/sso.py): the device's session cookie
    names this row, so the provider's back-channel logout (CAS: the service ticket as session index)
    and LabSafe's own logout end exactly that session. ``ticket_hash`` is the SHA-256 of the CAS
    service ticket or of the OIDC ``sid``/ID token: unique, so a ticket is accepted only once."""

    __tablename__ = "sso_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(8))  # "cas" or "oidc"
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The ID token, sent back as id_token_hint when LabSafe's logout ends the provider's session.
    id_token: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))

"""The signed-in user as a request sees it: who, and which roles with which scope (art. 9, 10).

Every logged-in request loads its user, and the policy and the services need only the id, the
names and the role assignments. Loading the ORM ``User`` for that (an entity, an identity-map
entry, its roles collection) cost ~0.25 ms on every request; this is one Core SELECT turned into a
plain object. A view that changes the user itself (logout, password, profile) loads the ORM
``User`` by id through ``services.get_user``.
"""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select

from .models import Role, RoleAssignment, User


class RoleGrant(NamedTuple):
    """One role assignment, read like ``RoleAssignment`` (role, college_id, lab_id, department_id)."""

    role: Role
    college_id: int | None
    lab_id: int | None
    department_id: int | None


class Principal:
    """Reads like ``User`` for everything a request asks of the signed-in user (Flask-Login's
    interface, ``has_role``, ``roles``); it changes nothing."""

    __slots__ = ("id", "username", "name", "email", "phone", "locale", "active", "session_version", "roles",
                 "_labsafe_scope")
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
        self.roles: tuple[RoleGrant, ...] = roles
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


_u, _r = User.__table__.c, RoleAssignment.__table__.c
# The user and each of its roles in one statement (a user without roles gives one row of NULLs),
# built once so SQLAlchemy reuses its cache key.
_LOAD = (
    select(_u.id, _u.username, _u.name, _u.email, _u.phone, _u.locale, _u.active, _u.session_version,
           _r.role, _r.college_id, _r.lab_id, _r.department_id)
    .select_from(User.__table__.outerjoin(RoleAssignment.__table__, _r.user_id == _u.id))
    .where(_u.id == bindparam("user_id"))
    .order_by(_r.id)
)


def load_principal(connection, user_id: int) -> Principal | None:
    rows = connection.execute(_LOAD, {"user_id": user_id}).all()
    if not rows:
        return None
    first = rows[0]
    roles = tuple(RoleGrant(Role(r[8]), r[9], r[10], r[11]) for r in rows if r[8] is not None)
    return Principal(*first[:8], roles)

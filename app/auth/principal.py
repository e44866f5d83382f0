"""The signed-in user as a request sees it, loaded in one Core SELECT as the read model
``models.Principal`` (why it is not the ORM ``User``: its docstring). A view that changes the user
itself (logout, password, profile) loads the ORM ``User`` by id through ``services.get_user``.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select

from .models import Principal, Role, RoleAssignment, RoleGrant, User

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

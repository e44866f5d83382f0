from __future__ import annotations

import itertools

from werkzeug.security import generate_password_hash

from app.auth.models import Role, RoleAssignment, User
from app.extensions import db

DEFAULT_PASSWORD = "correct horse battery"
# A cheap hash: scrypt on every factory user and every login would dominate the suite's time.
_HASH = generate_password_hash(DEFAULT_PASSWORD, method="pbkdf2:sha256:1000")
_seq = itertools.count(1)


def make_user(
    role: Role | str | None = None,
    *,
    college=None,
    lab=None,
    department=None,
    username: str | None = None,
    name: str | None = None,
    email: str | None = None,
) -> User:
    """A user with one role scoped as given (lab for lab_officer, college for college roles...)."""
    n = next(_seq)
    user = User(
        username=username or f"user{n}",
        name=name or f"用户{n}",
        email=email if email is not None else f"user{n}@example.edu.cn",
        password_hash=_HASH,
    )
    if role is not None:
        user.roles.append(
            RoleAssignment(
                role=Role(role),
                college_id=getattr(college, "id", college),
                lab_id=getattr(lab, "id", lab),
                department_id=getattr(department, "id", department),
            )
        )
    db.session.add(user)
    db.session.commit()
    return user


def login(client, user: User, password: str = DEFAULT_PASSWORD):
    """Log the client in through the JSON API, as the PWA does."""
    resp = client.post("/api/login", json={"username": user.username, "password": password})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp

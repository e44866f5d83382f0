"""Authentication and user services. No Flask request here: callers pass what they know."""
from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import InvalidInput, NotFound
from app.extensions import db

from .models import Role, RoleAssignment, User


_DUMMY_HASH = generate_password_hash("labsafe-timing-equaliser")


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login loader: the id is "<user id>:<session version>"; a stale version is logged out."""
    try:
        user_id, version = (int(p) for p in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user when the credentials are right and the account active, else None."""
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        # Same work either way, so timing does not reveal which usernames exist.
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Logout and password change: every copy of every session cookie stops working."""
    user.session_version = (user.session_version or 1) + 1
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current or ""):
        raise InvalidInput("The current password is wrong.")
    if len(new or "") < 8:
        raise InvalidInput("The new password must have at least 8 characters.")
    user.set_password(new)
    end_all_sessions(user)


def create_user(
    username: str, name: str, password: str, *, email: str | None = None, phone: str | None = None
) -> User:
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise InvalidInput(f"The username {username!r} is taken.")
    user = User(username=username, name=name, email=email, phone=phone)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def grant_role(
    user: User,
    role: Role,
    *,
    college_id: int | None = None,
    lab_id: int | None = None,
    department_id: int | None = None,
) -> RoleAssignment:
    role = Role(role)
    needs = {
        Role.lab_officer: lab_id,
        Role.college_leader: college_id,
        Role.college_head: college_id,
        Role.dept_officer: department_id,
    }
    if role in needs and needs[role] is None:
        raise InvalidInput(f"The role {role.value} needs a scope.")
    for existing in user.roles:
        if (existing.role, existing.college_id, existing.lab_id, existing.department_id) == (
            role, college_id, lab_id, department_id
        ):
            return existing
    assignment = RoleAssignment(role=role, college_id=college_id, lab_id=lab_id, department_id=department_id)
    user.roles.append(assignment)
    db.session.flush()
    user.__dict__.pop("_labsafe_scope", None)
    return assignment


def lab_officers(lab_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment)
            .where(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id == lab_id, User.active)
            .order_by(User.name)
        )
    )


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user

"""Authentication and user services. No Flask request here: callers pass what they know."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, bindparam, exists, func, select, update

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db

from .models import NO_PASSWORD, Role, RoleAssignment, User, hash_password, verify_password
from .principal import load_principal

# Checked when there is no password to check, with the same method and cost as a real one.
_DUMMY_HASH = hash_password("labsafe-timing-equaliser")

# Org owns colleges, labs and departments and sits above auth: create_app registers the checks a
# role's scope needs (use_org_rules), as it registers org's locator with the policy.
_org_rules: dict[str, Callable] = {}


def use_org_rules(*, check_scope: Callable, labs_left_without_officer: Callable) -> None:
    """``check_scope(college_id, lab_id, department_id)`` raises when a named scope does not exist;
    ``labs_left_without_officer(lab_ids, leaving_user_id, leaving_assignment_id)`` answers the active
    labs the leaving officer would leave without one, their rows locked (art. 10(3))."""
    _org_rules.update(check_scope=check_scope, labs_left_without_officer=labs_left_without_officer)


def _org_rule(name: str) -> Callable:
    try:
        return _org_rules[name]
    except KeyError:
        raise RuntimeError("auth.services.use_org_rules was not called (create_app registers org's rules)") from None


def load_user_from_session_id(session_id: str):
    """Flask-Login loader: the id is "<user id>:<session version>"; a stale version is logged out.

    Answers a ``Principal`` (one Core SELECT), not the ORM ``User``: see app/auth/principal.py.
    """
    try:
        user_id, version = (int(p) for p in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    principal = load_principal(db.session.connection(), user_id)
    if principal is None or not principal.active or principal.session_version != version:
        return None
    return principal


def authenticate(username: str, password: str) -> User | None:
    """The user when the credentials are right and the account active, else None.

    Every answer costs one password check, so timing does not tell an unknown or a deactivated
    account from an active one."""
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None or not user.has_password:  # same work either way (a password not set included)
        check_no_password(password)
        return None
    right = user.check_password(password or "")  # before `active`: a deactivated account costs the same
    return user if right and user.active else None


def check_no_password(password: str) -> None:
    """Spend what checking a password costs, for a login refused without one to check (an unknown
    account, a throttled attempt): every refused login then takes as long as a wrong password."""
    verify_password(_DUMMY_HASH, password or "")


def end_all_sessions(user: User) -> None:
    """Logout and password change: every copy of every session cookie stops working."""
    user.session_version = (user.session_version or 1) + 1
    db.session.commit()


def change_password(user: User, current: str, new: str, *, address: str | None = None, config=None,
                    device: str | None = None) -> User:
    """The user's own change: the new password is checked first, then the current one as a login is
    (the account's throttle: a stolen session cannot be used to guess it), then every session of the
    user ends, this one included (the caller logs this device in again). Answers the updated user."""
    from flask import current_app

    # The throttle is built on this module's authenticate: imported here, not at the top, to avoid a cycle.
    from . import throttle

    check_password_strength(new)
    if new == current:
        raise InvalidInput(_("The new password must differ from the current one."))
    verified = throttle.authenticate(user.username, current or "", address, config or current_app.config, device=device)
    if verified is None or verified.id != user.id:
        raise InvalidInput(_("The current password is wrong."))
    reset_password(verified, new)
    return verified


def create_user(
    username: str, name: str, password: str, *, email: str | None = None, phone: str | None = None,
    staff_no: str | None = None, wecom_userid: str | None = None, dingtalk_userid: str | None = None,
) -> User:
    username = (username or "").strip()
    check_username(username)
    if not (name or "").strip():
        raise InvalidInput(_("A user needs a name."))
    check_password_strength(password)
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(_("The username %(username)s is taken.", username=username))
    user = User(username=username, name=name.strip(), email=email or None, phone=phone or None,
                staff_no=_free_staff_no(staff_no, None), wecom_userid=(wecom_userid or "").strip() or None,
                dingtalk_userid=(dingtalk_userid or "").strip() or None)
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
        raise InvalidInput(_("The role %(role)s needs a scope.", role=role.value))
    # Only the scope the role uses is kept, so one assignment has one meaning.
    college_id = college_id if role in (Role.inspector, Role.college_leader, Role.college_head) else None
    lab_id = lab_id if role == Role.lab_officer else None
    department_id = department_id if role == Role.dept_officer else None
    _check_scope_exists(college_id, lab_id, department_id)
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


def _check_scope_exists(college_id, lab_id, department_id) -> None:
    _org_rule("check_scope")(college_id, lab_id, department_id)


def lab_officers(lab_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment)
            .where(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id == lab_id, User.active)
            .order_by(User.name)
        )
    )


_LAB_OFFICER_CONTACTS = (
    select(User.id, User.name, User.username, User.phone)
    .join(RoleAssignment)
    .where(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id == bindparam("lab_id"), User.active)
    .order_by(User.name)
)


def with_officer_contacts(from_clause, lab_id_column):
    """``from_clause`` outer-joined to the active safety officers (art. 10(3)) of the lab ``lab_id_column``
    names: the joined clause and the columns (officer_id, officer_name, officer_phone), one row per
    officer, one row of NULLs when there is none; for a query that reads a lab and its officers in
    one statement (org's QR card).

    Plain outer joins, the officer's activity in a correlated EXISTS: SQLite cannot flatten a joined
    subquery on the right of a LEFT JOIN and built the school's whole officer list on every door scan
    (a scan of role_assignments, growing with the school); this reads the lab's assignments by index."""
    roles, officer, users = (
        RoleAssignment.__table__.alias("officer_roles"),
        User.__table__.alias("officers"),
        User.__table__,
    )
    active = exists().where(users.c.id == roles.c.user_id, users.c.active)
    joined = (
        from_clause
        .outerjoin(roles, and_(roles.c.lab_id == lab_id_column, roles.c.role == Role.lab_officer, active))
        .outerjoin(officer, officer.c.id == roles.c.user_id)
    )
    return joined, (officer.c.id.label("officer_id"), officer.c.name.label("officer_name"),
                    officer.c.phone.label("officer_phone"))


def lab_officer_contacts(lab_id: int):
    """The lab's active officers as plain rows (id, name, username, phone), sorted by name.

    For door cards, the QR API and the admin lab page: only the columns shown, so no User
    entities, no roles, no identity-map work on the hot QR path.
    """
    return db.session.connection().execute(_LAB_OFFICER_CONTACTS, {"lab_id": lab_id}).all()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


# ---- the user's language and landing page ------------------------------------------------------

def user_locale(user_id: int, default: str = "zh_CN") -> str:
    """The language this user reads LabSafe in (chosen in the app, kept per user): the pages after
    login, and what is sent to them (e-mail). ``default`` when they never chose (Chinese first)."""
    locale = db.session.scalar(select(User.locale).where(User.id == user_id))
    return locale or default


def set_user_locale(user_id: int, locale: str, languages) -> None:
    """Remember the language the user chose; an unknown code is refused (400)."""
    if locale not in languages:
        raise InvalidInput(_("Unknown language."))
    user = get_user(user_id)
    if user.locale != locale:
        user.locale = locale
        db.session.commit()


# Where each role's daily work is, most demanding first: a user holding several roles lands on the
# first that applies. The daily check is due every day (art. 29), the inspector walks labs with the
# scanner (art. 27, 28), the college leader verifies fixes (art. 10(2)), a department follows the
# tickets of its remit (art. 9); the school admin and the college head read the summary.
LANDING_ORDER = (
    (Role.lab_officer, "home"),
    (Role.inspector, "scan"),
    (Role.college_leader, "review"),
    (Role.dept_officer, "tickets"),
    (Role.school_admin, "summary"),
    (Role.college_head, "summary"),
)


def landing(user) -> str:
    """The kind of page this user starts on after login: home, scan, review, tickets or summary."""
    for role, page in LANDING_ORDER:
        if user.has_role(role):
            return page
    return "home"


# ---- administration (school admin pages, CSV import, demo data) -------------------------------

MIN_PASSWORD_LENGTH = 8


def check_username(username: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", username or ""):
        raise InvalidInput(
            _("A username has 2 to 64 letters, digits or the characters _ . @ - (no spaces).")
        )


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))


def list_users(search: str | None = None, limit: int = 500) -> list[User]:
    stmt = select(User).order_by(User.username).limit(limit)
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(func.lower(User.username).like(like) | func.lower(User.name).like(like))
    return list(db.session.scalars(stmt))


def _free_staff_no(staff_no: str | None, user_id: int | None) -> str | None:
    """The staff number (工号) cleaned, or a Conflict when another user has it (the campus login
    finds users by it: app/auth/sso.py)."""
    staff_no = (staff_no or "").strip() or None
    if staff_no and db.session.scalar(select(User.id).where(User.staff_no == staff_no, User.id != (user_id or 0))):
        raise Conflict(_("The staff number %(no)s belongs to another user.", no=staff_no))
    return staff_no


def update_user(user: User, *, name: str, email: str | None, phone: str | None, staff_no: str | None = None,
                wecom_userid: str | None = None, dingtalk_userid: str | None = None, commit: bool = True) -> User:
    """The admin's edit of a user; the WeCom / DingTalk ids as given (empty: none)."""
    if not (name or "").strip():
        raise InvalidInput(_("A user needs a name."))
    user.staff_no = _free_staff_no(staff_no, user.id)
    user.name = name.strip()
    user.email = (email or "").strip() or None
    user.phone = (phone or "").strip() or None
    user.wecom_userid = (wecom_userid or "").strip() or None
    user.dingtalk_userid = (dingtalk_userid or "").strip() or None
    if commit:
        db.session.commit()
    return user


def reset_password(user: User, new_password: str) -> None:
    """An admin sets a new password; the user's open sessions end (they log in with the new one)."""
    check_password_strength(new_password)
    user.set_password(new_password)
    end_all_sessions(user)


# ---- set-password links (users imported without a password) ---------------------------------------
# The link carries the user's id signed with SECRET_KEY and its time; nothing is stored. It works
# while the user is active and has no password, and for SET_PASSWORD_LINK_DAYS: once a password is
# set (through the link, or by an admin) every link of the user stops working.

_SET_PASSWORD_SALT = "labsafe.set-password"


def _set_password_serializer(config) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=_SET_PASSWORD_SALT)


def user_for_set_password_token(token: str, config) -> User:
    """The user a valid link is for; InvalidInput (expired, used, tampered) otherwise."""
    max_age = int(config["SET_PASSWORD_LINK_DAYS"]) * 86400
    try:
        user_id = _set_password_serializer(config).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise InvalidInput(_("This link has expired. Ask the lab office for a new one.")) from None
    except BadSignature:
        raise InvalidInput(_("This link is not valid. Ask the lab office for a new one.")) from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or user.has_password:
        raise InvalidInput(_("This link has already been used. Log in with your password, or ask the lab "
                             "office to reset it."))
    return user


def set_first_password(token: str, password: str, config) -> User:
    """The user sets their own first password through a link. Checked and hashed before the write;
    the write applies only while the user still has no password, so a link works once."""
    user = user_for_set_password_token(token, config)
    check_password_strength(password)
    new_hash = hash_password(password)
    done = db.session.execute(
        update(User).where(User.id == user.id, User.password_hash == NO_PASSWORD, User.active.is_(True))
        .values(password_hash=new_hash, session_version=User.session_version + 1)
    ).rowcount
    if not done:
        db.session.rollback()
        raise InvalidInput(_("This link has already been used. Log in with your password, or ask the lab "
                             "office to reset it."))
    db.session.commit()
    db.session.refresh(user)
    return user


SET_PASSWORD_PATH = "/set-password/{token}"  # the page auth.views.set_password


def set_password_links(config, base_url: str) -> list[tuple[str, str, str, str]]:
    """(username, name, e-mail, link) of every active user who still has to set a password
    (imported without one), by username: the list the lab office hands out."""
    users = db.session.execute(
        select(User.id, User.username, User.name, User.email)
        .where(User.password_hash == NO_PASSWORD, User.active.is_(True)).order_by(User.username)
    ).all()
    base = base_url.rstrip("/")
    serializer = _set_password_serializer(config)
    return [(u.username, u.name, u.email or "", base + SET_PASSWORD_PATH.format(token=serializer.dumps(u.id)))
            for u in users]


def _labs_left_without_officer(lab_ids: set[int], leaving_user_id: int, leaving_assignment_id: int | None = None):
    """Active labs among lab_ids whose only active officer is the one leaving (art. 10(3))."""
    return _org_rule("labs_left_without_officer")(lab_ids, leaving_user_id, leaving_assignment_id)


def labs_still_covered(lab_ids: set[int], leaving_user_id: int, leaving_assignment_id: int | None = None) -> set[int]:
    """The labs among lab_ids that keep an active officer when the user leaves (or, given
    ``leaving_assignment_id``, when only that assignment of theirs goes)."""
    stmt = (
        select(RoleAssignment.lab_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.role == Role.lab_officer,
            RoleAssignment.lab_id.in_(lab_ids),
            User.active.is_(True),
        )
    )
    if leaving_assignment_id is not None:
        stmt = stmt.where(RoleAssignment.id != leaving_assignment_id)
    else:
        stmt = stmt.where(User.id != leaving_user_id)
    return set(db.session.scalars(stmt))


def revoke_role(user: User, assignment_id: int, *, by_user: User | None = None) -> None:
    assignment = next((r for r in user.roles if r.id == assignment_id), None)
    if assignment is None:
        raise NotFound(_("This user has no such role."))
    if by_user is not None and by_user.id == user.id and assignment.role == Role.school_admin:
        raise Conflict(_("You cannot remove your own administrator role; ask another administrator."))
    if assignment.role == Role.lab_officer and user.active:
        orphaned = _labs_left_without_officer({assignment.lab_id}, user.id, assignment.id)
        if orphaned:
            raise Conflict(
                _(
                    "%(lab)s would be left without a safety officer (art. 10(3)). "
                    "Name another officer for the lab first.",
                    lab=f"{orphaned[0].code} {orphaned[0].name}",
                )
            )
    user.roles.remove(assignment)
    db.session.commit()
    user.__dict__.pop("_labsafe_scope", None)


def set_user_active(user: User, active: bool, *, by_user: User | None = None) -> None:
    if user.active == active:
        return
    if not active:
        if by_user is not None and by_user.id == user.id:
            raise Conflict(_("You cannot deactivate your own account."))
        lab_ids = {r.lab_id for r in user.roles if r.role == Role.lab_officer}
        orphaned = _labs_left_without_officer(lab_ids, user.id)
        if orphaned:
            raise Conflict(
                _(
                    "Deactivating this user would leave %(labs)s without a safety officer (art. 10(3)). "
                    "Name another officer for these labs first.",
                    labs=", ".join(f"{lab.code} {lab.name}" for lab in orphaned),
                ),
                {"labs": [lab.code for lab in orphaned]},
            )
        user.active = False
        end_all_sessions(user)  # commits; a deactivated user's cookies die at once
    else:
        user.active = True
        db.session.commit()


def officer_counts(lab_ids) -> dict[int, int]:
    """lab id -> number of active safety officers, in one query."""
    rows = db.session.execute(
        select(RoleAssignment.lab_id, func.count(RoleAssignment.id))
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id.in_(list(lab_ids)), User.active.is_(True))
        .group_by(RoleAssignment.lab_id)
    )
    return {lab_id: n for lab_id, n in rows}


def set_lab_officers(lab_id: int, users: list[User]) -> bool:
    """Make exactly these users the lab's officers (CSV import); True when anything changed.

    Does not commit. The caller guarantees ``users`` is not empty (art. 10(3)).
    """
    wanted = {u.id for u in users}
    changed = False
    current = list(
        db.session.scalars(
            select(RoleAssignment).where(RoleAssignment.role == Role.lab_officer, RoleAssignment.lab_id == lab_id)
        )
    )
    have = {a.user_id for a in current}
    for a in current:
        if a.user_id not in wanted:
            db.session.delete(a)
            changed = True
    for u in users:
        if u.id not in have:
            db.session.add(RoleAssignment(user_id=u.id, role=Role.lab_officer, lab_id=lab_id))
            changed = True
    if changed:
        db.session.flush()
        for u in users:
            db.session.expire(u, ["roles"])
    return changed

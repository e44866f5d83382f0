"""CSV import of labs and users (universities keep these in spreadsheets).

A file is checked whole before anything is written: one bad row refuses the whole file with
row-numbered errors (row 1 is the header, as Excel numbers rows). Rows are upserted by lab code /
username, so importing the same file again changes nothing. UTF-8 with or without a BOM.

Column reference: README.md "CSV import" and templates/admin/import.html; examples in docs/examples/.
"""
from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.auth import models as auth_models
from app.auth.models import (
    MESSENGER_USERID_MAX,
    MESSENGER_USERID_PATTERN,
    NO_PASSWORD,
    Role,
    RoleAssignment,
    User,
)
from app.auth.services import MIN_PASSWORD_LENGTH, check_username, set_lab_officers
from app.errors import Conflict, InvalidInput
from app.extensions import db

from . import services
from .models import College, Department, Lab

MAX_ROWS = 5000
# New users given an initial password in one file. Each password is stored as a scrypt hash, ~130 ms
# of CPU on purpose (app/auth/models.py), so 50 take ~6.5 s of one core: a request, if a slow one,
# well within a proxy's 60 s. Users without a password cost no hashing and get set-password links.
MAX_NEW_PASSWORDS = 50

LAB_COLUMNS = ("code", "name", "college", "category", "phone", "officers")
LAB_OPTIONAL = ("name_en", "building", "floor", "room", "hazard_tags", "active")
USER_COLUMNS = ("username", "name")
USER_OPTIONAL = ("email", "phone", "password", "roles", "staff_no",  # staff_no: 工号, the campus login's key
                 "wecom_userid", "dingtalk_userid")  # where app.notifications sends the user's messages
MESSENGER_COLUMNS = ("wecom_userid", "dingtalk_userid")

_TRUE = {"1", "yes", "y", "true", "是", "启用", "在用"}
_FALSE = {"0", "no", "n", "false", "否", "停用", "关闭"}
_LIST_SPLIT = re.compile(r"[;,|；，、\s]+")
# Control characters have no place in a code, a name or a phone number; NUL is refused by PostgreSQL
# (a 500) and stored silently by SQLite. Tabs and line breaks (Alt+Enter in Excel) may only separate
# the items of a list column.
_LIST_COLUMNS = {"officers", "hazard_tags", "roles"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class ImportReport:
    kind: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    without_password: list[str] = field(default_factory=list)  # new users who must set one (a link)

    def summary(self) -> str:
        return _(
            "%(created)d created, %(updated)d updated, %(unchanged)d unchanged",
            created=len(self.created), updated=len(self.updated), unchanged=len(self.unchanged),
        )

    def as_dict(self) -> dict:
        return {"kind": self.kind, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "without_password": self.without_password}


class _Errors:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, row: int, column: str | None, message: str) -> None:
        self.items.append({"row": row, "column": column, "message": str(message)})

    def raise_if_any(self) -> None:
        if not self.items:
            return
        self.items.sort(key=lambda e: e["row"])
        lines = [
            _("Row %(row)d, column %(column)s: %(message)s", row=e["row"], column=e["column"], message=e["message"])
            if e["column"]
            else _("Row %(row)d: %(message)s", row=e["row"], message=e["message"])
            for e in self.items
        ]
        raise InvalidInput(
            _("The file was refused and nothing was imported. Fix these rows and upload it again."),
            {"errors": lines, "rows": self.items},
        )


# The row-numbered errors of a whole-file import, for other domains' imports too (app.roster.importing).
RowErrors = _Errors


@contextmanager
def _all_or_nothing():
    """The import's writes as one transaction: committed whole, or undone whole. Two imports (or an
    import and an edit) of the same labs or users at once: the unique username or lab code, or a row
    the other one deleted, stops the later one with a 409."""
    try:
        yield
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        raise Conflict(_("Someone else changed the same records at the same moment; nothing was imported. "
                         "Please import the file again.")) from None
    except Exception:
        db.session.rollback()
        raise


def read_csv(data: bytes, required: tuple[str, ...], optional: tuple[str, ...]) -> list[tuple[int, dict]]:
    """Decode and split a CSV file into (row number, {column: text}); refuse a malformed file."""
    errors = _Errors()
    if isinstance(data, str):
        text = data.lstrip("\ufeff")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            row = data[: err.start].count(b"\n") + 1
            errors.add(row, None, _(
                "the file is not UTF-8 text. In Excel use \"Save as\" > \"CSV UTF-8 (comma delimited)\"; "
                "WPS: \"CSV (UTF-8)\"."
            ))
            errors.raise_if_any()
    if not text.strip():
        errors.add(1, None, _("the file is empty."))
        errors.raise_if_any()
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), strict=True):
            records.append(record)
    except csv.Error as err:  # bad quoting, NUL bytes: report the record it happened in
        errors.add(len(records) + 1, None, _("the file is not valid CSV (%(error)s).", error=str(err)))
        errors.raise_if_any()
    header = [h.strip().lower() for h in records[0]]
    allowed = set(required) | set(optional)
    for name in required:
        if name not in header:
            errors.add(1, name, _("the required column is missing."))
    for name in header:
        if name and name not in allowed:
            errors.add(1, name, _("unknown column (allowed: %(allowed)s).", allowed=", ".join(required + optional)))
    seen = set()
    for name in header:
        if name and name in seen:
            errors.add(1, name, _("the column appears twice."))
        seen.add(name)
    errors.raise_if_any()
    rows = []
    for index, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines that spreadsheets leave at the end
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header):]):
            errors.add(index, None, _("the row has more cells than the header."))
            continue
        row = {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header) if name}
        for name, value in row.items():
            bad = (_CONTROL if name in _LIST_COLUMNS else _CONTROL_OR_BREAK).search(value)
            if bad:
                errors.add(index, name, _("the cell contains a control character (U+%(code)04X); type the text "
                                          "again without it.", code=ord(bad.group())))
        rows.append((index, row))
    if len(rows) > MAX_ROWS:
        errors.add(1, None, _("at most %(n)d rows per file; split the file.", n=MAX_ROWS))
    if not rows and not errors.items:
        errors.add(2, None, _("the file has a header but no rows."))
    errors.raise_if_any()
    return rows


def _parse_bool(value: str, default: bool = True) -> bool | None:
    value = (value or "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def _split(value: str) -> list[str]:
    return [p for p in _LIST_SPLIT.split(value or "") if p]


# ---- labs ----------------------------------------------------------------------------------------

def import_labs(data: bytes) -> ImportReport:
    return import_lab_rows(read_csv(data, LAB_COLUMNS, LAB_OPTIONAL))


def import_lab_rows(rows: list[tuple[int, dict]]) -> ImportReport:
    """Upsert labs by code; each row names its safety officers (usernames, art. 10(3)).

    The officers column is the whole list: officers not named lose the role for that lab.
    """
    errors = _Errors()
    colleges = {c.code: c for c in db.session.scalars(select(College))}
    existing = {lab.code: lab for lab in db.session.scalars(select(Lab))}
    wanted_users = {u.lower() for _, r in rows for u in _split(r.get("officers", ""))}
    users = {
        u.username.lower(): u
        for u in db.session.scalars(select(User).where(func.lower(User.username).in_(wanted_users)))
    } if wanted_users else {}

    first_row: dict[str, int] = {}
    plan = []
    for row, r in rows:
        code = r.get("code", "")
        if code in first_row:
            errors.add(
                row, "code", _("the code %(code)s already appears in row %(first)d.", code=code, first=first_row[code])
            )
            continue
        first_row[code] = row
        data = {k: r.get(k, "") for k in ("code", "name", "name_en", "building", "floor", "room", "phone")}
        data["category"] = r.get("category", "")
        data["hazard_tags"] = r.get("hazard_tags", "")
        college = colleges.get(r.get("college", ""))
        if college is None:
            errors.add(row, "college", _("unknown college code %(code)s.", code=r.get("college", "") or "—"))
        data["college"] = college
        active = _parse_bool(r.get("active", ""))
        if active is None:
            errors.add(row, "active", _("write 1 or 0 (yes/no)."))
        data["active"] = bool(active)
        try:
            clean = services.clean_lab_fields(data)
        except InvalidInput as err:
            for column, message in err.details.get("fields", {}).items():
                if column != "college":  # reported above with the code
                    errors.add(row, column, message)
            clean = None
        officers = []
        names = _split(r.get("officers", ""))
        if not names:
            errors.add(row, "officers", _("name at least one safety officer (art. 10(3))."))
        for name in names:
            user = users.get(name.lower())
            if user is None:
                errors.add(row, "officers", _("no user %(name)s; import the users first.", name=name))
            elif not user.active:
                errors.add(row, "officers", _("the user %(name)s is deactivated.", name=name))
            elif user not in officers:
                officers.append(user)
        if clean is not None:
            plan.append((code, clean, officers))
    errors.raise_if_any()

    report = ImportReport("labs")
    with _all_or_nothing():
        for code, clean, officers in plan:
            lab = existing.get(code)
            if lab is None:
                services.create_lab(clean | {"college": clean["college"]}, officers, commit=False)
                report.created.append(code)
                continue
            changed = services._apply_lab(lab, clean)
            changed = set_lab_officers(lab.id, officers) or changed
            (report.updated if changed else report.unchanged).append(code)
    return report


# ---- users ---------------------------------------------------------------------------------------

def parse_roles(text: str, colleges: dict, labs: dict, departments: dict) -> tuple[list[dict], list[str]]:
    """'school_admin; inspector; inspector:CA; college_leader:CA; lab_officer:CHEM-101; dept_officer:security'."""
    roles, problems = [], []
    for part in _split(text):
        name, _sep, scope = part.partition(":")
        try:
            role = Role(name.strip().lower())
        except ValueError:
            problems.append(_("unknown role %(role)s (allowed: %(allowed)s).", role=name,
                              allowed=", ".join(r.value for r in Role)))
            continue
        scope = scope.strip()
        entry = {"role": role, "college_id": None, "lab_id": None, "department_id": None}
        if role == Role.school_admin or (role == Role.inspector and not scope):
            if scope:
                problems.append(_("the role %(role)s takes no scope.", role=role.value))
                continue
        elif role in (Role.inspector, Role.college_leader, Role.college_head):
            if scope not in colleges:
                problems.append(_("%(role)s: unknown college code %(code)s.", role=role.value, code=scope or "—"))
                continue
            entry["college_id"] = colleges[scope]
        elif role == Role.lab_officer:
            if scope not in labs:
                problems.append(_("%(role)s: unknown lab code %(code)s.", role=role.value, code=scope or "—"))
                continue
            entry["lab_id"] = labs[scope]
        elif role == Role.dept_officer:
            if scope not in departments:
                problems.append(_("%(role)s: unknown department code %(code)s.", role=role.value, code=scope or "—"))
                continue
            entry["department_id"] = departments[scope]
        if entry not in roles:
            roles.append(entry)
    return roles, problems


def import_users(data: bytes) -> ImportReport:
    return import_user_rows(read_csv(data, USER_COLUMNS, USER_OPTIONAL))


def import_user_rows(rows: list[tuple[int, dict]]) -> ImportReport:
    """Upsert users by username. Roles are added, never removed (revoking is done on the admin page,
    where the last-officer rule is checked). The password is only used for new users; a new user
    without one gets none (it matches no password) and sets one through a set-password link."""
    errors = _Errors()
    colleges = dict(db.session.execute(select(College.code, College.id)).all())
    labs = dict(db.session.execute(select(Lab.code, Lab.id)).all())
    departments = dict(db.session.execute(select(Department.code, Department.id)).all())
    existing = {u.username.lower(): u for u in db.session.scalars(select(User))}

    first_row: dict[str, int] = {}
    plan = []
    new_passwords = 0
    # 工号 (the campus login finds users by it, app/auth/sso.py): unique among users and in the file.
    staff_owner = {no: u.username.lower() for u in existing.values() if (no := u.staff_no)}
    staff_row: dict[str, int] = {}
    for row, r in rows:
        username = r.get("username", "")
        key = username.lower()
        if key in first_row:
            errors.add(row, "username", _("the username %(name)s already appears in row %(first)d.",
                                           name=username, first=first_row[key]))
            continue
        first_row[key] = row
        try:
            check_username(username)
        except InvalidInput as err:
            errors.add(row, "username", err.message)
        name = r.get("name", "")
        if not name:
            errors.add(row, "name", _("a name is required."))
        if len(name) > 100:
            errors.add(row, "name", _("At most %(n)d characters.", n=100))
        email = r.get("email", "")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            errors.add(row, "email", _("not an e-mail address."))
        password = r.get("password", "")
        user = existing.get(key)
        if user is None and password and len(password) < MIN_PASSWORD_LENGTH:
            errors.add(row, "password", _("a password needs at least %(n)d characters; or leave it empty and "
                                          "give the user a set-password link.", n=MIN_PASSWORD_LENGTH))
        elif user is None and password and not r.get("password_hash"):
            new_passwords += 1
            if new_passwords == MAX_NEW_PASSWORDS + 1:
                errors.add(row, "password", _(
                    "at most %(n)d new users with a password per file (storing each one safely takes a "
                    "moment). Leave the password column empty: those users get set-password links.",
                    n=MAX_NEW_PASSWORDS))
        staff_no = (r.get("staff_no") or "").strip()
        if len(staff_no) > 64:
            errors.add(row, "staff_no", _("At most %(n)d characters.", n=64))
        elif staff_no and staff_no in staff_row:
            errors.add(row, "staff_no", _("the staff number %(no)s already appears in row %(first)d.",
                                          no=staff_no, first=staff_row[staff_no]))
        elif staff_no and staff_owner.get(staff_no, key) != key:
            errors.add(row, "staff_no", _("the staff number %(no)s belongs to another user.", no=staff_no))
        if staff_no:
            staff_row.setdefault(staff_no, row)
        roles, problems = parse_roles(r.get("roles", ""), colleges, labs, departments)
        for problem in problems:
            errors.add(row, "roles", problem)
        # password_hash: only demo data passes one (a CSV column of that name is refused as unknown).
        fields = {"name": name, "email": email or None, "phone": r.get("phone") or None}
        if "staff_no" in r:  # a file without the column leaves the staff numbers as they are
            fields["staff_no"] = staff_no or None
        for column in MESSENGER_COLUMNS:  # the same: a file without the column leaves the ids as they are
            if column not in r:
                continue
            userid = r[column]
            if len(userid) > MESSENGER_USERID_MAX:
                errors.add(row, column, _("At most %(n)d characters.", n=MESSENGER_USERID_MAX))
            elif not re.match(MESSENGER_USERID_PATTERN, userid):
                errors.add(row, column, _("only letters, digits and _ . @ - (the id as the messenger's admin "
                                          "console shows it)."))
            fields[column] = userid or None
        plan.append((username, user, fields, (password, r.get("password_hash")), roles))
    errors.raise_if_any()
    # The new users' password hashes (~130 ms each, at most MAX_NEW_PASSWORDS) before anything is
    # written: on SQLite the import view takes the database's write lock at its first write.
    plan = [(username, user, fields,
             (ready_hash or (auth_models.hash_password(plain) if plain else NO_PASSWORD)) if user is None else None,
             roles)
            for username, user, fields, (plain, ready_hash), roles in plan]

    report = ImportReport("users")
    with _all_or_nothing():
        for username, user, fields, password_hash, roles in plan:
            created = user is None
            changed = False
            if created:
                user = User(username=username, password_hash=password_hash, **fields)
                db.session.add(user)
            else:
                for k, v in fields.items():
                    if getattr(user, k) != v:
                        setattr(user, k, v)
                        changed = True
            have = {(a.role, a.college_id, a.lab_id, a.department_id) for a in user.roles}
            for entry in roles:
                if (entry["role"], entry["college_id"], entry["lab_id"], entry["department_id"]) not in have:
                    user.roles.append(RoleAssignment(**entry))
                    changed = True
            if created:
                report.created.append(username)
                if password_hash == NO_PASSWORD:
                    report.without_password.append(username)
            else:
                (report.updated if changed else report.unchanged).append(username)
    return report

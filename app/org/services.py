"""Organisation services: colleges, departments, labs, their officers, QR tokens and closures.

Plain arguments only (no request): the admin pages, the CSV import, the CLI and demo data all
come through here, so the rules (art. 10(3): every active lab has a safety officer) hold for each.
"""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.auth.services import (
    find_user,
    grant_role,
    labs_still_covered,
    officer_counts,
    set_lab_officers,
    with_officer_contacts,
)
from app.errors import Conflict, Gone, InvalidInput, NotFound
from app.extensions import db
from app.policy import Action, Role, lab_clause
from app.timeutil import utcnow

from . import risk
from .labels import CATEGORY_ALIASES, HAZARD_ALIASES
from .models import (
    HAZARD_TAGS,
    College,
    CollegeKind,
    Department,
    Lab,
    LabActivePeriod,
    LabCategory,
    LabClosure,
    LabRef,
    LabRiskAssessment,
    RetiredQrToken,
    RiskLevel,
    new_qr_token,
)

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


# ---- reading -------------------------------------------------------------------------------

def get_lab(lab_id: int) -> Lab:
    lab = db.session.get(Lab, lab_id)
    if lab is None:
        raise NotFound(_("No such lab."))
    return lab


def get_college(college_id: int) -> College:
    college = db.session.get(College, college_id)
    if college is None:
        raise NotFound(_("No such college."))
    return college


def get_department(department_id: int) -> Department:
    dept = db.session.get(Department, department_id)
    if dept is None:
        raise NotFound(_("No such department."))
    return dept


def _refuse_token(token: str):
    """A token no lab carries: Gone if it was re-issued (art. 24(1) plates get replaced), else NotFound."""
    if db.session.scalar(select(RetiredQrToken.id).where(RetiredQrToken.token == token)):
        raise Gone(
            _(
                "This QR code has been replaced. Please scan the new code on the lab's door, "
                "or ask the lab's safety officer."
            )
        )
    raise NotFound(_("This QR code does not belong to any lab. Check that the whole code was scanned."))


# The hot read paths (QR scan, a lab's checklist) read plain rows on the session's connection: no
# entity, no identity map (~0.15 ms a lab). LabRef is what the policy and art. 22 need of a lab.
_l = Lab.__table__.c
_LAB_REF_COLUMNS = (_l.id, _l.college_id, _l.category, _l.hazard_tags)
_LAB_REF = select(*_LAB_REF_COLUMNS).where(_l.id == bindparam("lab_id"))
_LAB_REF_BY_TOKEN = select(*_LAB_REF_COLUMNS).where(_l.qr_token == bindparam("token"))


def _lab_card_statement():
    # The door card: LabSchema's columns with the college's name and the lab's active officers (auth's
    # joins), one row per officer (one row of NULL officer columns when there is none), by name.
    # One statement instead of two: each round trip costs ~0.2 ms on PostgreSQL.
    lab_and_college = Lab.__table__.join(College.__table__, College.__table__.c.id == _l.college_id)
    joined, (officer_id, officer_name, officer_phone) = with_officer_contacts(lab_and_college, _l.id)
    return (
        select(_l.id, _l.code, _l.name, _l.name_en, _l.building, _l.floor, _l.room, _l.college_id,
               College.__table__.c.name.label("college_name"), _l.category, _l.hazard_tags, _l.phone, _l.active,
               _l.risk_level, officer_id, officer_name, officer_phone)
        .select_from(joined)
        .where(_l.qr_token == bindparam("token"))
        .order_by(officer_name, officer_id)
    )


_LAB_CARD_BY_TOKEN = _lab_card_statement()


def lab_ref_select():
    """A lab by id as a LabRef's columns (bind parameter ``lab_id``), for a domain that reads more in
    the same round trip (the checklist API adds its list's current version)."""
    return _LAB_REF


_LAB_REF_AND_NAME = select(*_LAB_REF_COLUMNS, _l.name, _l.name_en).where(_l.id == bindparam("lab_id"))


def lab_ref_and_name(lab_id: int) -> tuple[LabRef, str, str | None] | None:
    """A lab by id as a LabRef, its name and English name, one row and no entity; None when there is no
    such lab. The inspection submit's read: the policy and art. 22 take the LabRef, a new ticket's
    notices the names."""
    row = db.session.connection().execute(_LAB_REF_AND_NAME, {"lab_id": lab_id}).first()
    return None if row is None else (LabRef(*row[:4]), row[4], row[5])


def lab_ref_by_token(token: str) -> LabRef:
    """The lab whose door QR carries this token. A re-issued token is Gone, never another lab."""
    row = db.session.connection().execute(_LAB_REF_BY_TOKEN, {"token": token}).first()
    if row is None:
        _refuse_token(token)
    return LabRef(*row)


def lab_card_by_token(token: str) -> list:
    """``lab_ref_by_token``'s lab as rows of the door card's columns, one per officer (see
    schemas.lab_card); one statement."""
    rows = db.session.connection().execute(_LAB_CARD_BY_TOKEN, {"token": token}).all()
    if not rows:
        _refuse_token(token)
    return rows


def lab_and_college(obj) -> tuple[int | None, int | None]:
    """(lab_id, college_id) of a lab, a college, or anything carrying a lab (an inspection, a
    ticket): how the policy places an object (registered with policy.locate_with by create_app)."""
    if isinstance(obj, (Lab, LabRef)):
        return obj.id, obj.college_id
    if isinstance(obj, College):
        return None, obj.id
    lab = getattr(obj, "lab", None)
    if isinstance(lab, Lab):
        return lab.id, lab.college_id
    lab_id = getattr(obj, "lab_id", None)
    if lab_id is not None:
        lab = db.session.get(Lab, lab_id)
        return lab_id, lab.college_id if lab else None
    return None, getattr(obj, "college_id", None)


def lab_filter(user, action: Action = Action.VIEW_LAB):
    """A WHERE clause over Lab selecting the labs this user may see (or inspect): the policy's rule."""
    return lab_clause(user, action, lab_id=Lab.id, college_id=Lab.college_id)


def lab_ids_select(user, action: Action, college_id: int | None = None):
    """A SELECT of the ids of the labs this user may reach for ``action`` (the policy's lab_clause), of one
    college when given: for a domain that filters its own rows by lab in one statement (documents' ZIPs)."""
    stmt = select(Lab.id).where(lab_filter(user, action))
    return stmt.where(Lab.college_id == college_id) if college_id is not None else stmt


def lab_codes(lab_ids) -> dict[int, str]:
    """Lab id -> its code, one query."""
    ids = set(lab_ids) - {None}
    return dict(db.session.execute(select(Lab.id, Lab.code).where(Lab.id.in_(ids))).all()) if ids else {}


def labs_in_scope(
    user, action: Action = Action.VIEW_LAB, college_id: int | None = None, risk_level: str | None = None
) -> list[Lab]:
    stmt = select(Lab).where(lab_filter(user, action)).order_by(Lab.code)
    if college_id is not None:
        stmt = stmt.where(Lab.college_id == college_id)
    if risk_level:
        stmt = stmt.where(risk_level_clause(risk_level))
    return list(db.session.scalars(stmt))


RISK_FILTERS = tuple(level.value for level in RiskLevel) + ("none", "reassess")


def risk_level_clause(value: str):
    """A WHERE clause over Lab for the list's risk filter: a grade I-IV, ``none`` (not yet graded) or
    ``reassess`` (re-grading needed). Anything else is refused (a typo must not list every lab)."""
    if value == "none":
        return Lab.risk_level.is_(None)
    if value == "reassess":
        return Lab.risk_reassess.is_(True)
    try:
        return Lab.risk_level == RiskLevel(value)
    except ValueError:
        raise InvalidInput(
            _("Unknown risk level %(value)s; use one of %(allowed)s.", value=value, allowed=", ".join(RISK_FILTERS)),
            {"fields": {"risk_level": "invalid"}},
        ) from None


def colleges() -> list[College]:
    return list(db.session.scalars(select(College).order_by(College.code)))


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.code)))


def all_labs(college_id: int | None = None, search: str | None = None, risk_level: str | None = None) -> list[Lab]:
    stmt = select(Lab).order_by(Lab.code)
    if college_id:
        stmt = stmt.where(Lab.college_id == college_id)
    if risk_level:
        stmt = stmt.where(risk_level_clause(risk_level))
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(func.lower(Lab.code).like(like) | func.lower(Lab.name).like(like))
    return list(db.session.scalars(stmt))


def find_lab_by_code(code: str) -> Lab | None:
    return db.session.scalar(select(Lab).where(Lab.code == (code or "").strip()))


# ---- when labs were active (dated: reports and the nightly job judge each day by it) ----------

def _period_bounds(lab):
    P = LabActivePeriod
    # A first period's start is the lab's creation (start_at None, models.LabActivePeriod).
    return P, func.coalesce(P.start_at, lab.created_at)


def active_during(start, end, lab=Lab):
    """SQL condition on ``lab`` (Lab or an alias of it, in the enclosing query): the lab was active at
    some moment of [start, end). ``start``/``end``: datetimes (naive UTC) or SQL expressions."""
    P, since = _period_bounds(lab)
    return exists().where(P.lab_id == lab.id, since < end, or_(P.end_at.is_(None), P.end_at > start))


def active_throughout(start, end, lab=Lab):
    """SQL condition on ``lab``: the lab was active during the whole of [start, end), e.g. a whole
    school day, the days on which it owes a daily check (art. 29)."""
    P, since = _period_bounds(lab)
    return exists().where(P.lab_id == lab.id, since <= start, or_(P.end_at.is_(None), P.end_at >= end))


def labs_active_during(start, end):
    """SELECT of the ids of the labs active at some moment of [start, end): "the labs of a month"."""
    return select(Lab.id).where(active_during(start, end))


def is_closed_on(lab: Lab, day: date) -> bool:
    return any(c.start_date <= day <= c.end_date for c in lab.closures)


# ---- colleges and departments ----------------------------------------------------------------

def _check_code(code: str) -> str:
    code = (code or "").strip()
    if not CODE_RE.fullmatch(code):
        raise InvalidInput(
            _("A code has 1 to 32 letters, digits or the characters _ . - and starts with a letter or digit."),
            {"fields": {"code": "invalid"}},
        )
    return code


def _unique(model, code: str, exclude_id: int | None, message: str) -> None:
    stmt = select(model.id).where(model.code == code)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict(message, {"fields": {"code": "taken"}})


def save_college(
    college: College | None, *, code: str, name: str, name_en: str | None = None,
    kind: CollegeKind | str = CollegeKind.college, active: bool = True,
) -> College:
    """Create (college=None) or update a college, key lab or teaching centre (art. 2, 6)."""
    code = _check_code(code)
    if not (name or "").strip():
        raise InvalidInput(_("A name is required."), {"fields": {"name": "required"}})
    try:
        kind = CollegeKind(kind)
    except ValueError:
        raise InvalidInput(_("Unknown kind of unit."), {"fields": {"kind": "invalid"}}) from None
    _unique(College, code, college.id if college else None, _("A unit with the code %(code)s exists.", code=code))
    if college is None:
        college = College()
        db.session.add(college)
    college.code, college.name, college.name_en = code, name.strip(), (name_en or "").strip() or None
    college.kind, college.active = kind, bool(active)
    db.session.commit()
    return college


def save_department(
    dept: Department | None, *, code: str, name: str, name_en: str | None = None, remit: str | None = None
) -> Department:
    """Functional departments (art. 9) and their remit (which tickets they follow up)."""
    code = _check_code(code)
    if not (name or "").strip():
        raise InvalidInput(_("A name is required."), {"fields": {"name": "required"}})
    _unique(Department, code, dept.id if dept else None, _("A department with the code %(code)s exists.", code=code))
    if dept is None:
        dept = Department()
        db.session.add(dept)
    dept.code, dept.name = code, name.strip()
    dept.name_en = (name_en or "").strip() or None
    dept.remit = (remit or "").strip() or None
    db.session.commit()
    return dept


# ---- labs --------------------------------------------------------------------------------------

def parse_category(value) -> LabCategory:
    raw = str(getattr(value, "value", value) or "").strip()
    key = CATEGORY_ALIASES.get(raw, raw.lower())
    try:
        return LabCategory(key)
    except ValueError:
        raise InvalidInput(
            _("Unknown lab category %(value)s; use one of %(allowed)s.",
              value=raw or "—", allowed=", ".join(c.value for c in LabCategory))
        ) from None


def parse_hazard_tags(value) -> list[str]:
    """A list, or text separated by ; , | or spaces (Chinese punctuation too); unknown tags refused."""
    if isinstance(value, str):
        parts = re.split(r"[;,|；，、\s]+", value)
    else:
        parts = list(value or [])
    tags, unknown = [], []
    for part in parts:
        part = (part or "").strip()
        if not part:
            continue
        tag = HAZARD_ALIASES.get(part, part.lower())
        if tag not in HAZARD_TAGS:
            unknown.append(part)
        elif tag not in tags:
            tags.append(tag)
    if unknown:
        raise InvalidInput(
            _("Unknown hazard tag %(value)s; use one of %(allowed)s.",
              value=", ".join(unknown), allowed=", ".join(HAZARD_TAGS))
        )
    return [t for t in HAZARD_TAGS if t in tags]  # canonical order: re-imports compare equal


LAB_TEXT_FIELDS = ("name", "name_en", "building", "floor", "room", "phone")


def clean_lab_fields(data: dict) -> dict:
    """Validate a lab's fields (form, CSV row, demo data) into model values.

    Raises InvalidInput whose details["fields"] maps each bad field to a message.
    """
    errors: dict[str, str] = {}
    clean: dict = {}
    try:
        clean["code"] = _check_code(data.get("code", ""))
    except InvalidInput as err:
        errors["code"] = err.message
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _("A name is required.")
    limits = {"name": 200, "name_en": 200, "building": 100, "floor": 20, "room": 40, "phone": 40}
    for f in LAB_TEXT_FIELDS:
        value = (data.get(f) or "").strip()
        if len(value) > limits[f]:
            errors[f] = _("At most %(n)d characters.", n=limits[f])
        clean[f] = value
    clean["name_en"] = clean["name_en"] or None
    if not clean["phone"] and "phone" not in errors:
        # art. 24(1): the nameplate shows a working phone number.
        errors["phone"] = _("A lab needs a phone number for its nameplate (art. 24(1)).")
    college = data.get("college")
    if college is None and data.get("college_id"):
        college = db.session.get(College, int(data["college_id"]))
    if college is None:
        errors["college"] = _("Unknown college.")
    clean["college"] = college
    try:
        clean["category"] = parse_category(data.get("category"))
    except InvalidInput as err:
        errors["category"] = err.message
    try:
        clean["hazard_tags"] = parse_hazard_tags(data.get("hazard_tags"))
    except InvalidInput as err:
        errors["hazard_tags"] = err.message
    clean["active"] = bool(data.get("active", True))
    if errors:
        raise InvalidInput(
            _(
                "Some fields are missing or invalid: %(fields)s",
                fields="; ".join(f"{k}: {v}" for k, v in errors.items()),
            ),
            {"fields": errors},
        )
    return clean


def _apply_lab(lab: Lab, clean: dict) -> bool:
    """Copy clean values onto the lab; True when anything changed."""
    changed = False
    values = {f: clean[f] for f in LAB_TEXT_FIELDS}
    values.update(code=clean["code"], college_id=clean["college"].id, category=clean["category"],
                  hazard_tags=list(clean["hazard_tags"]), active=clean["active"])
    if lab.risk_level is not None and (lab.category != values["category"]
                                       or list(lab.hazard_tags or []) != values["hazard_tags"]):
        # The MOE 2024 measures: when a lab's hazard sources change it is graded again.
        lab.risk_reassess = True
    for key, value in values.items():
        if getattr(lab, key) != value:
            setattr(lab, key, value)
            changed = True
    return changed


def _active_officers(users) -> list:
    found, missing = [], []
    for u in users:
        user = find_user(u) if isinstance(u, str) else u
        if user is None or not user.active:
            missing.append(u if isinstance(u, str) else u.username)
        elif user not in found:
            found.append(user)
    if missing:
        raise InvalidInput(
            _("No active user %(names)s; create the user first.", names=", ".join(missing)),
            {"fields": {"officers": "unknown"}},
        )
    return found


def create_lab(data: dict, officers: list, *, commit: bool = True) -> Lab:
    """A new lab with its safety officers: a lab has at least one (art. 10(3))."""
    clean = clean_lab_fields(data)
    officers = _active_officers(officers)
    if not officers:
        raise InvalidInput(
            _("Name at least one safety officer for the lab (art. 10(3))."), {"fields": {"officers": "required"}}
        )
    if find_lab_by_code(clean["code"]) is not None:
        raise Conflict(_("A lab with the code %(code)s exists.", code=clean["code"]), {"fields": {"code": "taken"}})
    lab = Lab(qr_token=new_qr_token())
    _apply_lab(lab, clean)
    db.session.add(lab)
    db.session.flush()
    set_lab_officers(lab.id, officers)
    if commit:
        db.session.commit()
    return lab


def update_lab(lab: Lab, data: dict, *, commit: bool = True) -> bool:
    """Edit a lab's fields. (Re)activating a lab needs an active officer (art. 10(3))."""
    clean = clean_lab_fields(data)
    if clean["code"] != lab.code and find_lab_by_code(clean["code"]) is not None:
        raise Conflict(_("A lab with the code %(code)s exists.", code=clean["code"]), {"fields": {"code": "taken"}})
    if clean["active"] and not lab.active:
        _require_officer(lab)
    changed = _apply_lab(lab, clean)
    if commit:
        db.session.commit()
    return changed


def _require_officer(lab: Lab) -> None:
    if lab.id is None or not officer_counts([lab.id]).get(lab.id):
        raise Conflict(
            _("%(lab)s has no active safety officer; name one before activating the lab (art. 10(3)).",
              lab=f"{lab.code} {lab.name}")
        )


def check_role_scope(college_id: int | None, lab_id: int | None, department_id: int | None) -> None:
    """A role's scope names a college, lab or department that exists (auth.grant_role asks)."""
    for model, pk, message in (
        (College, college_id, _("No such college.")),
        (Lab, lab_id, _("No such lab.")),
        (Department, department_id, _("No such department.")),
    ):
        if pk is not None and db.session.get(model, pk) is None:
            raise InvalidInput(message)


def labs_left_without_officer(lab_ids: set[int], leaving_user_id: int, leaving_assignment_id: int | None = None):
    """Active labs among lab_ids whose only active officer is the one leaving (art. 10(3))."""
    if not lab_ids:
        return []
    # Two officers of one lab removed at once must not both see the other still there: on PostgreSQL
    # each waits here for the other's commit (the labs' rows, in id order), then counts what is left.
    # SQLite's writing request already holds the database's write lock (FOR UPDATE renders nothing).
    db.session.execute(select(Lab.id).where(Lab.id.in_(lab_ids)).order_by(Lab.id).with_for_update()).all()
    uncovered = lab_ids - labs_still_covered(lab_ids, leaving_user_id, leaving_assignment_id)
    if not uncovered:
        return []
    return list(db.session.scalars(select(Lab).where(Lab.id.in_(uncovered), Lab.active.is_(True)).order_by(Lab.code)))


def add_officer(lab: Lab, username: str) -> None:
    (user,) = _active_officers([username.strip()]) if (username or "").strip() else (None,)
    if user is None:
        raise InvalidInput(_("Enter the username of the new officer."))
    grant_role(user, Role.lab_officer, lab_id=lab.id)
    db.session.commit()


def reissue_qr_token(lab: Lab, by_user_id: int | None = None) -> str:
    """A leaked or damaged plate gets a new code; the old one stops working at once."""
    db.session.add(RetiredQrToken(token=lab.qr_token, lab_id=lab.id, retired_by_id=by_user_id, retired_at=utcnow()))
    lab.qr_token = new_qr_token()
    db.session.commit()
    return lab.qr_token


# ---- closures (holidays, renovation: not missed daily checks, art. 29) -------------------------

def add_closure(lab: Lab, start: date, end: date, reason: str = "") -> LabClosure:
    if start is None or end is None:
        raise InvalidInput(_("A closure needs a first and a last day."))
    if end < start:
        raise InvalidInput(_("A closure must end on or after the day it starts."))
    overlap = db.session.scalar(
        select(LabClosure.id).where(
            LabClosure.lab_id == lab.id, LabClosure.start_date <= end, LabClosure.end_date >= start,
            LabClosure.end_date >= LabClosure.start_date,  # one reopened before it began never happened
        )
    )
    if overlap is not None:
        raise Conflict(_("This period overlaps a closure the lab already has."))
    closure = LabClosure(lab_id=lab.id, start_date=start, end_date=end, reason=(reason or "").strip()[:200])
    db.session.add(closure)
    db.session.commit()
    return closure


# ---- risk grade I-IV (MOE 2024 measures, 教科信〔2024〕4号; rules in app/org/risk.py) ---------

def assess_risk(lab: Lab, answers, by_user_id: int | None, client_uuid: str | None = None) -> LabRiskAssessment:
    """Grade the lab from its category, hazard tags and the assessment's answers; record the
    assessment (kept for ever, art. 30), set the lab's grade and clear its re-grade flag.

    ``client_uuid`` (optional): made once per assessment by the form or client. Sent again, it
    answers the assessment already recorded (``replayed`` True) and records nothing; used for other
    answers or another lab, it is refused (409)."""
    rules = risk.rules()
    clean, errors = rules.clean_answers(answers)
    if errors:
        raise InvalidInput(
            _("Some answers are missing or invalid: %(fields)s",
              fields="; ".join(f"{k}: {v}" for k, v in errors.items())),
            {"fields": errors},
        )
    if client_uuid is not None:
        client_uuid = str(client_uuid).lower()
        replayed = _replayed_assessment(lab, clean, client_uuid)
        if replayed is not None:
            return replayed
    # Two assessments of one lab at once: the second waits for the first's commit (PostgreSQL).
    db.session.execute(select(Lab.id).where(Lab.id == lab.id).with_for_update()).all()
    grade = rules.grade(lab.category, lab.hazard_tags, clean)
    now = utcnow()
    record = LabRiskAssessment(
        lab_id=lab.id, risk_level=grade.level, rule_id=grade.rule.id if grade.rule else None,
        reason=grade.reason_zh(), reason_en=grade.reason_en(),
        matched=list(grade.matched), answers=clean, category=lab.category,
        hazard_tags=list(lab.hazard_tags or []), rules_hash=rules.content_hash, assessed_at=now,
        assessed_by_id=by_user_id, client_uuid=client_uuid,
    )
    db.session.add(record)
    lab.risk_level, lab.risk_assessed_at, lab.risk_assessed_by_id = grade.level, now, by_user_id
    lab.risk_answers, lab.risk_reassess = clean, False
    try:
        db.session.commit()
    except IntegrityError:
        # The same client_uuid sent twice at once: the loser answers as the winner's replay.
        db.session.rollback()
        replayed = _replayed_assessment(lab, clean, client_uuid) if client_uuid is not None else None
        if replayed is None:
            raise
        return replayed
    record.replayed = False
    return record


def _replayed_assessment(lab: Lab, clean: dict, client_uuid: str) -> LabRiskAssessment | None:
    done = db.session.scalar(select(LabRiskAssessment).where(LabRiskAssessment.client_uuid == client_uuid))
    if done is None:
        return None
    if done.lab_id != lab.id or done.answers != clean:
        raise Conflict(_("This assessment's client_uuid was already used for other answers."),
                       {"fields": {"client_uuid": "taken"}})
    done.replayed = True  # not a column: tells the API to answer 200, not 201
    return done


def risk_history(lab_id: int) -> list[LabRiskAssessment]:
    """A lab's assessments, the latest first."""
    return list(db.session.scalars(
        select(LabRiskAssessment).where(LabRiskAssessment.lab_id == lab_id)
        .order_by(LabRiskAssessment.assessed_at.desc(), LabRiskAssessment.id.desc())
    ))

"""What the rounds pages read besides services: the choices a planner has (each asked of the policy),
a round's facts in names and its change log. Reads only; a fixed number of statements per page."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import Role, RoleAssignment, User
from app.checklists import services as checklists
from app.checklists.models import Checklist
from app.extensions import db
from app.org.models import College, Department, Lab
from app.policy import Action, may

from .models import LEVEL_OF_KIND, SPECIAL_TOPICS, InspectionRound, RoundChange, RoundKind, RoundLateFlag
from .services import RoundFacts


@dataclass
class Candidate:
    """A user who may inspect at some level the planner plans: the school's levels (``school``) or a
    college's monthly check in ``colleges``."""

    id: int
    name: str
    school: bool
    colleges: set[int] = field(default_factory=set)


@dataclass
class PlanOptions:
    kinds: list[RoundKind]
    colleges: list  # College rows the user may plan a college's monthly round for
    topics: list[str]  # special topics the user may plan (art. 9(2): a department its remit)
    checklists: list  # (key, title, title_en, round kinds it serves)
    labs: list  # the labs a list may be picked from
    inspectors: list[Candidate]
    school_level: bool  # plans the school's rounds (any lab), not only a college's
    all_colleges: list  # the active colleges (labs chosen by college)


def _department_ids() -> dict[str, int]:
    return dict(db.session.execute(select(Department.code, Department.id)).all())


def plan_options(user) -> PlanOptions:
    """Every choice of the planning form, each one the policy lets this user plan (no rule here)."""
    departments = _department_ids()
    colleges = list(db.session.scalars(select(College).where(College.active.is_(True)).order_by(College.code)))
    plannable_colleges = [c for c in colleges if may(user, Action.PLAN_ROUND, RoundFacts(
        kind=RoundKind.college_monthly.value, owner_college_id=c.id, department_id=None))]
    topics = [t for t, code in SPECIAL_TOPICS.items() if may(user, Action.PLAN_ROUND, RoundFacts(
        kind=RoundKind.special.value, owner_college_id=None, department_id=departments.get(code)))]
    kinds = [k for k, ok in ((RoundKind.school_wide, may(user, Action.PLAN_ROUND, RoundFacts(
        kind=RoundKind.school_wide.value, owner_college_id=None, department_id=None))),
        (RoundKind.college_monthly, bool(plannable_colleges)), (RoundKind.special, bool(topics))) if ok]
    school_level = RoundKind.school_wide in kinds or RoundKind.special in kinds
    lists = []
    for key, title, title_en, kind in db.session.execute(
            select(Checklist.key, Checklist.title, Checklist.title_en, Checklist.kind)
            .where(Checklist.current_version_id.is_not(None)).order_by(Checklist.kind, Checklist.key)):
        serves = [k for k in kinds if LEVEL_OF_KIND[k] in checklists.LEVELS_BY_KIND[kind]]
        if serves:
            lists.append((key, title, title_en, serves))
    lab_stmt = (select(Lab.id, Lab.code, Lab.name, Lab.name_en, Lab.college_id, Lab.building, Lab.floor, Lab.room)
                .join(College, College.id == Lab.college_id)
                .where(Lab.active.is_(True), College.active.is_(True)).order_by(College.code, Lab.code))
    if not school_level:
        lab_stmt = lab_stmt.where(Lab.college_id.in_([c.id for c in plannable_colleges]))
    labs = db.session.execute(lab_stmt).all() if kinds else []
    return PlanOptions(kinds=kinds, colleges=plannable_colleges, topics=topics, checklists=lists, labs=labs,
                       inspectors=inspector_candidates(school_level, plannable_colleges) if kinds else [],
                       school_level=school_level, all_colleges=colleges)


def inspector_candidates(school_level: bool, colleges: list) -> list[Candidate]:
    """The active users who may inspect at the school's levels (when ``school_level``) or do the monthly
    check of one of ``colleges``: the policy asked per user (two statements whatever their number)."""
    users = db.session.scalars(
        select(User).where(User.active.is_(True), User.id.in_(select(RoleAssignment.user_id).where(
            RoleAssignment.role.in_((Role.inspector, Role.college_leader, Role.school_admin)))))
        .options(selectinload(User.roles)).order_by(User.name, User.id))
    out = []
    for u in users:
        c = Candidate(u.id, u.name, school_level and may(u, Action.SCHOOL_INSPECT),
                      {college.id for college in colleges if may(u, Action.COLLEGE_INSPECT, college)})
        if c.school or c.colleges:
            out.append(c)
    return out


def round_candidates(r: InspectionRound) -> list[Candidate]:
    """Who may be assigned a lab of this round: a college's round has its labs in its college only
    (services.scope_lab_ids), the school's rounds are inspected at the school's levels."""
    if r.kind is RoundKind.college_monthly and r.owner_college_id is not None:
        return inspector_candidates(False, [db.session.get(College, r.owner_college_id)])
    return inspector_candidates(True, [])


def college_names() -> dict[int, str]:
    return dict(db.session.execute(select(College.id, College.name)).all())


@dataclass
class RoundNames:
    """The names a round's page shows for its ids."""

    checklist: str | None
    checklist_en: str | None
    college: str | None
    department: str | None
    department_en: str | None
    planned_by: str | None
    colleges: dict[int, str]


def round_names(r: InspectionRound) -> RoundNames:
    checklist = db.session.execute(
        select(Checklist.title, Checklist.title_en).where(Checklist.key == r.checklist_key)).first()
    department = db.session.execute(
        select(Department.name, Department.name_en).where(Department.id == r.department_id)
    ).first() if r.department_id else None
    colleges = college_names()
    return RoundNames(
        checklist=checklist.title if checklist else None, checklist_en=checklist.title_en if checklist else None,
        college=colleges.get(r.owner_college_id), department=department.name if department else None,
        department_en=department.name_en if department else None,
        planned_by=db.session.scalar(select(User.name).where(User.id == r.created_by_id)), colleges=colleges,
    )


@dataclass
class LogEntry:
    at: datetime
    by: str | None  # None: the nightly job
    what: str
    detail: dict


def change_log(r: InspectionRound) -> tuple[list[LogEntry], dict[int, str], dict[int, str]]:
    """The round's changes (RoundChange, art. 30) and the nightly job's late flags (one entry a night),
    oldest first, with the names of the people and labs they mention: four statements."""
    changes = db.session.execute(
        select(RoundChange.at, RoundChange.by_id, RoundChange.what, RoundChange.detail)
        .where(RoundChange.round_id == r.id).order_by(RoundChange.at, RoundChange.id)).all()
    nights: dict[datetime, list[int]] = {}
    for at, lab_id in db.session.execute(
            select(RoundLateFlag.flagged_at, RoundLateFlag.lab_id).where(RoundLateFlag.round_id == r.id)
            .order_by(RoundLateFlag.flagged_at, RoundLateFlag.lab_id)):
        nights.setdefault(at, []).append(lab_id)
    people_ids, lab_ids = {c.by_id for c in changes}, {i for ids in nights.values() for i in ids}
    for c in changes:
        detail = c.detail or {}
        people_ids.update(detail.get("inspectors") or [])
        for change in detail.get("changes") or []:
            people_ids.update((change.get("from"), change.get("to")))
            lab_ids.add(change.get("lab_id"))
    people_ids.discard(None)
    lab_ids.discard(None)
    people = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(people_ids))).all()) \
        if people_ids else {}
    labs = {row.id: f"{row.code} {row.name}" for row in db.session.execute(
        select(Lab.id, Lab.code, Lab.name).where(Lab.id.in_(lab_ids)))} if lab_ids else {}
    entries = [LogEntry(c.at, people.get(c.by_id, f"#{c.by_id}") if c.by_id is not None else None, c.what,
                        c.detail or {}) for c in changes]
    entries += [LogEntry(at, None, "late", {"lab_ids": ids}) for at, ids in nights.items()]
    entries.sort(key=lambda e: e.at)
    return entries, people, labs

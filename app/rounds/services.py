"""Rounds: planning, assignment, the state of a round's labs, the inspector's work list, spot-check
draws (art. 26-28, 30). Plain arguments; the views ask the policy, with ``facts_of`` for a round.

A round's lab is *done* by its first qualifying inspection: of that lab, at the round's level, with its checklist,
finished (the phone's ``finished_at``, not when it reached the server) inside the window, by an
inspector assigned in the round, carrying this round's id or none. Computed by query, never stored:
an offline inspection synced after the window still counts, and one lab is counted once whatever
the number of inspections. *Late*: not done and the window is over; *pending*: otherwise.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, insert, or_, select
from sqlalchemy.orm import aliased, defer

from app.auth.models import User
from app.checklists import services as checklists
from app.checklists.models import Checklist, ChecklistVersion
from app.errors import Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.inspections.models import Inspection
from app.org.models import College, Department, Lab, LabCategory, LabClosure, LabRef, RiskLevel
from app.policy import may, round_clause
from app.timeutil import add_months, day_bounds_utc, utcnow

from .models import LEVEL_OF_KIND, SPECIAL_TOPICS, InspectionRound, RoundChange, RoundKind, RoundLab


@dataclass(frozen=True)
class RoundFacts:
    """A round as the policy reads it (app/policy.py, ``_can_plan_round`` / ``_can_view_round``)."""

    kind: str
    owner_college_id: int | None
    department_id: int | None
    inspector_ids: frozenset = frozenset()
    lab_ids: frozenset = frozenset()
    unannounced: bool = False
    started: bool = False


def facts_of(r: InspectionRound, now: datetime | None = None) -> RoundFacts:
    rows = db.session.execute(select(RoundLab.lab_id, RoundLab.inspector_id).where(RoundLab.round_id == r.id)).all()
    return RoundFacts(
        kind=r.kind.value, owner_college_id=r.owner_college_id, department_id=r.department_id,
        inspector_ids=frozenset(i for _lab, i in rows if i is not None), lab_ids=frozenset(lab for lab, _i in rows),
        unannounced=r.unannounced, started=r.starts_at <= (now or utcnow()),
    )


def get_round(round_id: int) -> InspectionRound:
    r = db.session.get(InspectionRound, round_id)
    if r is None:
        raise NotFound(_("No such round."))
    return r


def _record(round_id: int, by_id: int | None, what: str, detail: dict) -> None:
    db.session.add(RoundChange(round_id=round_id, by_id=by_id, what=what, detail=detail, at=utcnow()))


# ---- planning ------------------------------------------------------------------------------

def _window(window_from: date, window_to: date, config) -> tuple[datetime, datetime]:
    if window_to < window_from:
        raise InvalidInput(_("The window ends before it starts."),
                           {"fields": {"window_to": [_("Before window_from.")]}})
    tz = config["SCHOOL_TIMEZONE"]
    return day_bounds_utc(window_from, tz)[0], day_bounds_utc(window_to, tz)[1]


def _check_checklist(key: str, kind: RoundKind) -> None:
    checklist = db.session.scalar(select(Checklist).where(Checklist.key == key))
    if checklist is None:
        raise InvalidInput(_("No such checklist."), {"fields": {"checklist_key": [_("No such checklist.")]}})
    if LEVEL_OF_KIND[kind] not in checklists.LEVELS_BY_KIND[checklist.kind]:
        raise InvalidInput(
            _("The checklist “%(title)s” is not used for this kind of round.", title=checklist.title),
            {"fields": {"checklist_key": [_("Does not match the round's kind.")]}},
        )


def closed_throughout(start: date, end: date):
    """Labs closed for the whole window: rounds skip them (issue 22, holiday closures).

    One LabClosure covering the window (a bulk closure writes one per lab; reopening early moves its
    end_date, so a reopened lab is planned again). Closures that only together cover the window are
    not merged here: the one place to change if they should be."""
    return select(LabClosure.lab_id).where(LabClosure.start_date <= start, LabClosure.end_date >= end)


def scope_lab_ids(selection: dict, owner_college_id: int | None, window: tuple[date, date]) -> list[int]:
    """The active labs (of active colleges) a selection names, open at some point of the window, in id order."""
    mode = selection.get("mode", "all")
    stmt = (select(Lab.id, Lab.hazard_tags).join(College, College.id == Lab.college_id)
            .where(Lab.active.is_(True), College.active.is_(True), Lab.id.not_in(closed_throughout(*window)))
            .order_by(Lab.id))
    if owner_college_id is not None:
        stmt = stmt.where(Lab.college_id == owner_college_id)
    if mode == "college":
        stmt = stmt.where(Lab.college_id == selection.get("college_id"))
    elif mode == "category":
        try:
            stmt = stmt.where(Lab.category == LabCategory(selection.get("category")))
        except ValueError:
            raise InvalidInput(_("No such lab category."), {"fields": {"labs": [_("No such lab category.")]}}) from None
    elif mode == "risk_level":  # the MOE 2024 grades (org.risk): e.g. every red and orange lab
        try:
            levels = [RiskLevel(v) for v in selection.get("risk_levels") or []]
        except ValueError:
            raise InvalidInput(_("No such risk grade."), {"fields": {"labs": [_("No such risk grade.")]}}) from None
        stmt = stmt.where(Lab.risk_level.in_(levels))
    elif mode == "list":
        stmt = stmt.where(Lab.id.in_(selection.get("lab_ids") or []))
    elif mode != "all" and mode != "hazard_tag":
        raise InvalidInput(_("Choose the labs by all, college, category, hazard tag, risk grade or a list."),
                           {"fields": {"labs": [_("Unknown way of choosing labs.")]}})
    rows = db.session.execute(stmt).all()
    if mode == "hazard_tag":  # a JSON list: read in Python, the same on both databases
        tag = selection.get("hazard_tag")
        rows = [row for row in rows if tag in (row.hazard_tags or [])]
    ids = [row.id for row in rows]
    if mode == "list":
        unknown = sorted(set(selection.get("lab_ids") or []) - set(ids))
        if unknown:
            raise InvalidInput(
                _("Some labs cannot be in this round (unknown, inactive, closed or of another college)."),
                {"lab_ids": unknown, "fields": {"labs": [_("Some labs chosen cannot be in this round.")]}})
    return ids


def draw(population: list[int], n: int, seed: int) -> list[int]:
    """The spot check's labs: ``n`` of ``population`` (lab ids in id order), by ``seed``; an auditor
    redoes it with the same three values (art. 28 抽查)."""
    return sorted(random.Random(seed).sample(population, min(n, len(population))))


def _labs_by_place(lab_ids) -> list:
    return db.session.execute(
        select(Lab.id, Lab.college_id, Lab.category, Lab.hazard_tags, Lab.building, Lab.floor, Lab.room, Lab.code)
        .where(Lab.id.in_(lab_ids)).order_by(Lab.building, Lab.floor, Lab.room, Lab.code)
    ).all()


def _inspectors(ids) -> dict[int, User]:
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(set(ids)), User.active.is_(True)))}
    unknown = sorted(set(ids) - set(users))
    if unknown:
        raise InvalidInput(_("No such inspector."),
                           {"inspector_ids": unknown, "fields": {"inspector_ids": [_("No such inspector.")]}})
    return users


def _check_can_inspect(kind: RoundKind, assignments: dict[int, int | None], labs: dict, users: dict) -> None:
    """Each assigned inspector may record this round's level of inspection in their lab (the policy's rule)."""
    action = checklists.ACTION_BY_LEVEL[LEVEL_OF_KIND[kind]]
    refused = [lab_id for lab_id, user_id in assignments.items()
               if user_id is not None and not may(users[user_id], action, _ref(labs[lab_id]))]
    if refused:
        raise InvalidInput(_("An inspector assigned cannot inspect this lab at this round's level."),
                           {"lab_ids": sorted(refused),
                            "fields": {"inspector_ids": [_("Cannot inspect every lab given at this level.")]}})


def _ref(lab) -> LabRef:
    """A lab row as the policy places it without another query."""
    return LabRef(lab.id, lab.college_id, lab.category, lab.hazard_tags)


def spread_evenly(labs: list, inspector_ids: list[int]) -> dict[int, int | None]:
    """Labs (in building / floor / room order) dealt to the inspectors in turn: neighbours go to
    different inspectors no more than the order makes them, and counts differ by at most one."""
    ordered = sorted(inspector_ids)
    if not ordered:
        return {lab.id: None for lab in labs}
    return {lab.id: ordered[i % len(ordered)] for i, lab in enumerate(labs)}


def _department_of(kind: RoundKind, topic: str | None, owner_college_id: int | None) -> int | None:
    if kind is not RoundKind.special or owner_college_id is not None:
        return None
    code = SPECIAL_TOPICS[topic]
    return db.session.scalar(select(Department.id).where(Department.code == code))


def plan_facts(data: dict) -> RoundFacts:
    """What the policy needs to judge a round being planned (before anything is written)."""
    kind = RoundKind(data["kind"])
    if kind is RoundKind.special and data.get("topic") not in SPECIAL_TOPICS:
        raise InvalidInput(_("A special round needs a topic: %(topics)s.", topics=", ".join(SPECIAL_TOPICS)),
                           {"fields": {"topic": [_("Unknown topic.")]}})
    owner = data.get("owner_college_id")
    if kind is RoundKind.school_wide and owner is not None:
        raise InvalidInput(_("A school-wide round belongs to the school, not a college."),
                           {"fields": {"owner_college_id": [_("Leave empty for a school-wide round.")]}})
    if kind is RoundKind.college_monthly and owner is None:
        raise InvalidInput(_("A college's monthly round needs its college."),
                           {"fields": {"owner_college_id": [_("Required for a college round.")]}})
    if owner is not None and db.session.get(College, owner) is None:
        raise InvalidInput(_("No such college."), {"fields": {"owner_college_id": [_("No such college.")]}})
    return RoundFacts(kind=kind.value, owner_college_id=owner,
                      department_id=_department_of(kind, data.get("topic"), owner))


@dataclass(frozen=True)
class RuleOrigin:
    """A round a recurring rule plans (rules.py): the rule, its period's first day and the rule's part."""

    rule_id: int
    period_start: date
    part: str


def create_round(user: User, data: dict, facts: RoundFacts, config, *,
                 origin: RuleOrigin | None = None) -> InspectionRound:
    """Plan a round (``data``: RoundInSchema-loaded; ``facts``: ``plan_facts(data)``, the policy said yes).

    ``origin``: a rule's period (rules.py): the round names it, its change log says the rule made it
    (``by_id`` None, the rule in the detail), and the caller's transaction (the nightly's) commits."""
    kind = RoundKind(data["kind"])
    _check_checklist(data["checklist_key"], kind)
    starts_at, ends_at = _window(data["window_from"], data["window_to"], config)
    selection = data["labs"]
    population = scope_lab_ids(selection, facts.owner_college_id, (data["window_from"], data["window_to"]))
    seed = draw_n = None
    chosen = population
    if data.get("spot_check") is not None:
        draw_n = data["spot_check"]
        seed = data.get("seed") if data.get("seed") is not None else secrets.randbelow(2**31)
        chosen = draw(population, draw_n, seed)
    if not chosen:
        raise InvalidInput(_("No lab matches this choice."), {"fields": {"labs": [_("No lab matches.")]}})
    labs = _labs_by_place(chosen)
    by_id = {lab.id: lab for lab in labs}
    inspector_ids = list(dict.fromkeys(data.get("inspector_ids") or []))
    users = _inspectors(inspector_ids + [a["inspector_id"] for a in data.get("assignments") or []
                                         if a["inspector_id"] is not None])
    if data.get("assign", "even") == "even":
        assignments = spread_evenly(labs, inspector_ids)
    else:
        assignments = {lab.id: None for lab in labs}
        for a in data.get("assignments") or []:
            if a["lab_id"] not in by_id:
                raise InvalidInput(_("A lab assigned is not in this round."), {"lab_ids": [a["lab_id"]]})
            assignments[a["lab_id"]] = a["inspector_id"]
    _check_can_inspect(kind, assignments, by_id, users)
    r = InspectionRound(
        title=data["title"], kind=kind, topic=data.get("topic") if kind is RoundKind.special else None,
        checklist_key=data["checklist_key"], window_from=data["window_from"], window_to=data["window_to"],
        starts_at=starts_at, ends_at=ends_at, owner_college_id=facts.owner_college_id,
        department_id=facts.department_id, created_by_id=user.id, created_at=utcnow(),
        unannounced=bool(data.get("unannounced")) or draw_n is not None,  # a spot check is unannounced
        seed=seed, draw_n=draw_n, population=population if draw_n is not None else None,
        selection=dict(selection),
    )
    if origin is not None:
        r.rule_id, r.period_start, r.rule_part = origin.rule_id, origin.period_start, origin.part
    db.session.add(r)
    db.session.flush()
    # One executemany (no RETURNING per row): a fixed number of statements whatever the number of labs,
    # which the nightly's planning from rules (rules.py) needs.
    db.session.execute(insert(RoundLab), [{"round_id": r.id, "lab_id": lab.id, "inspector_id": assignments[lab.id]}
                                          for lab in labs])
    made_by = {"rule_id": origin.rule_id, "period_start": origin.period_start.isoformat()} if origin else {}
    _record(r.id, None if origin else user.id, "created", {
        "labs": len(labs), "inspectors": sorted(set(inspector_ids)), "selection": dict(selection), "seed": seed,
        "draw_n": draw_n, **made_by})
    if origin is None:
        db.session.commit()
    return r


def set_assignments(user: User, r: InspectionRound, assignments: list[dict]) -> int:
    """Assign (or unassign, inspector_id None) labs of the round by hand; recorded with before and after."""
    rows = {rl.lab_id: rl for rl in db.session.scalars(select(RoundLab).where(RoundLab.round_id == r.id))}
    unknown = sorted({a["lab_id"] for a in assignments} - set(rows))
    if unknown:
        raise InvalidInput(_("A lab assigned is not in this round."), {"lab_ids": unknown})
    wanted = {a["lab_id"]: a.get("inspector_id") for a in assignments}
    users = _inspectors([i for i in wanted.values() if i is not None])
    labs = {lab.id: lab for lab in _labs_by_place(list(wanted))}
    _check_can_inspect(r.kind, wanted, labs, users)
    changed = []
    for lab_id, inspector_id in wanted.items():
        if rows[lab_id].inspector_id != inspector_id:
            changed.append({"lab_id": lab_id, "from": rows[lab_id].inspector_id, "to": inspector_id})
            rows[lab_id].inspector_id = inspector_id
    if changed:
        _record(r.id, user.id, "assigned", {"changes": changed})
    db.session.commit()
    return len(changed)


# ---- state ---------------------------------------------------------------------------------

def _qualifying(rl, r):
    """A SELECT of the inspections that do a round's lab (correlated over ``rl`` and ``r``): of the lab,
    at the round's level, with its checklist, finished inside its window, by an inspector assigned in
    the round, carrying this round's id or none."""
    team = aliased(RoundLab)
    # Correlated to the round two levels out (named explicitly: auto-correlation looks one level out
    # only), one probe of the (round_id, inspector_id) index per candidate inspection.
    assigned = (select(team.id).where(team.round_id == r.id, team.inspector_id == Inspection.inspector_id)
                .correlate(r, Inspection).exists())
    # The round's level (a school-wide round counts school inspections, art. 27; a college's, college
    # ones, art. 28): also what lets the (lab_id, level, finished_at) index range-scan each lab.
    level = case({kind.value: level for kind, level in LEVEL_OF_KIND.items()}, value=r.kind)
    return (
        select(Inspection.id)
        .join(ChecklistVersion, ChecklistVersion.id == Inspection.checklist_version_id)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .where(Inspection.lab_id == rl.lab_id, Inspection.level == level, Checklist.key == r.checklist_key,
               Inspection.finished_at >= r.starts_at, Inspection.finished_at < r.ends_at,
               or_(Inspection.round_id == r.id, Inspection.round_id.is_(None)), assigned)
        .correlate(rl, r)
    )


def first_qualifying(rl=RoundLab, r=InspectionRound):
    """The id of the inspection that does a round's lab, or NULL: the earliest by the phone's finishing
    time, so one lab is counted once however many inspections qualify (``_qualifying``)."""
    return _qualifying(rl, r).order_by(Inspection.finished_at, Inspection.id).limit(1).scalar_subquery()


def is_done(rl=RoundLab, r=InspectionRound):
    """Whether a round's lab is done, as an EXISTS the planner may turn into a semi-join: for figures
    and flags, which need no more than that."""
    return _qualifying(rl, r).exists()


def counted_inspections(round_id: int):
    """A SELECT of the ids of every inspection that counts in a round: each of its labs' qualifying ones
    (``_qualifying``), not only the first; for the documents filed of the round (documents' ZIP)."""
    return (_qualifying(RoundLab, InspectionRound).correlate(None)
            .where(RoundLab.round_id == round_id, InspectionRound.id == round_id))


def _late(planned: int, done: int, ends_at: datetime, now: datetime) -> int:
    """A round's late labs: those not done once its window is over (before that, none is late)."""
    return planned - done if now >= ends_at else 0


def _state(done: bool, ends_at: datetime, now: datetime) -> str:
    return "done" if done else ("late" if now >= ends_at else "pending")


def _lab_rows(where, now: datetime) -> list[tuple[int, dict]]:
    """(round id, lab body) of the round labs ``where`` selects, with their state and who did each, in
    building / floor order: three queries whatever the number of rounds and labs."""
    first = first_qualifying().label("inspection_id")
    rows = db.session.execute(
        select(RoundLab.round_id, InspectionRound.ends_at, RoundLab.lab_id, RoundLab.inspector_id, Lab.code, Lab.name,
               Lab.name_en, Lab.building, Lab.floor, Lab.room, Lab.qr_token, first)
        .join(InspectionRound, InspectionRound.id == RoundLab.round_id).join(Lab, Lab.id == RoundLab.lab_id)
        .where(*where).order_by(Lab.building, Lab.floor, Lab.room, Lab.code)
    ).all()
    done_ids = [row.inspection_id for row in rows if row.inspection_id]
    inspections = {i.id: i for i in db.session.execute(
        select(Inspection.id, Inspection.inspector_id, Inspection.finished_at).where(Inspection.id.in_(done_ids))
    )} if done_ids else {}
    people = {row.inspector_id for row in rows} | {i.inspector_id for i in inspections.values()}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(people - {None})))
                 .all()) if people - {None} else {}
    out = []
    for row in rows:
        done = inspections.get(row.inspection_id)
        out.append((row.round_id, {
            "lab_id": row.lab_id, "code": row.code, "name": row.name, "name_en": row.name_en,
            "building": row.building, "floor": row.floor, "room": row.room, "qr_token": row.qr_token,
            "inspector": {"id": row.inspector_id, "name": names.get(row.inspector_id)} if row.inspector_id else None,
            "state": _state(done is not None, row.ends_at, now),
            "inspection_id": done.id if done else None,
            "done_by": {"id": done.inspector_id, "name": names.get(done.inspector_id)} if done else None,
            "finished_at": done.finished_at if done else None,
        }))
    return out


def round_labs(r: InspectionRound, now: datetime, lab_filter=None) -> list[dict]:
    """The round's labs with their state and who did each, in building / floor order."""
    where = [RoundLab.round_id == r.id] + ([lab_filter] if lab_filter is not None else [])
    return [body for _round_id, body in _lab_rows(where, now)]


def counts(round_ids: list[int]) -> dict[int, dict]:
    """Planned / done per round, in one query whatever the number of rounds and labs."""
    if not round_ids:
        return {}
    # The done labs in a WHERE EXISTS (a semi-join to the planner), joined back to count per round.
    done = (select(RoundLab.id).join(InspectionRound, InspectionRound.id == RoundLab.round_id)
            .where(RoundLab.round_id.in_(round_ids), is_done()).subquery())
    rows = db.session.execute(
        select(RoundLab.round_id, func.count(), func.count(done.c.id))
        .outerjoin(done, done.c.id == RoundLab.id)
        .where(RoundLab.round_id.in_(round_ids)).group_by(RoundLab.round_id)
    ).all()
    return {round_id: {"planned": planned, "done": done} for round_id, planned, done in rows}


def _visible(user):
    assigned = lambda user_id: InspectionRound.id.in_(  # noqa: E731
        select(RoundLab.round_id).where(RoundLab.inspector_id == user_id))
    has_lab_in = lambda lab_ids: InspectionRound.id.in_(  # noqa: E731
        select(RoundLab.round_id).where(RoundLab.lab_id.in_(lab_ids)))
    now = utcnow()
    return round_clause(
        user, owner_college_id=InspectionRound.owner_college_id, department_id=InspectionRound.department_id,
        is_school_wide=InspectionRound.kind == RoundKind.school_wide,
        is_special=InspectionRound.kind == RoundKind.special, started=InspectionRound.starts_at <= now,
        unannounced=InspectionRound.unannounced.is_(True), assigned_to=assigned, has_lab_in=has_lab_in,
    )


# A round's status (``round_summary``) as a condition on its window, at ``now``.
STATUS_CLAUSES = {
    "upcoming": lambda now: InspectionRound.starts_at > now,
    "running": lambda now: and_(InspectionRound.starts_at <= now, InspectionRound.ends_at > now),
    "over": lambda now: InspectionRound.ends_at <= now,
}


def list_rounds(user, *, limit: int = 200, kind: RoundKind | None = None, status: str | None = None) -> list[dict]:
    """The rounds this user may see (the policy's rule in SQL), latest window first, with their counts;
    ``kind`` and ``status`` (a STATUS_CLAUSES key) narrow the list."""
    now = utcnow()
    stmt = select(InspectionRound).where(_visible(user))
    if kind is not None:
        stmt = stmt.where(InspectionRound.kind == kind)
    if status is not None:
        stmt = stmt.where(STATUS_CLAUSES[status](now))
    rounds = list(db.session.scalars(
        stmt.order_by(InspectionRound.window_from.desc(), InspectionRound.id.desc()).limit(limit)))
    figures = counts([r.id for r in rounds])
    return [round_summary(r, figures.get(r.id), now) for r in rounds]


def round_summary(r: InspectionRound, figures: dict | None, now: datetime) -> dict:
    figures = figures or {"planned": 0, "done": 0}
    over = now >= r.ends_at
    return {
        "id": r.id, "title": r.title, "kind": r.kind.value, "topic": r.topic, "checklist_key": r.checklist_key,
        "window_from": r.window_from, "window_to": r.window_to, "owner_college_id": r.owner_college_id,
        "department_id": r.department_id, "unannounced": r.unannounced, "seed": r.seed, "draw_n": r.draw_n,
        "planned": figures["planned"], "done": figures["done"],
        "late": _late(figures["planned"], figures["done"], r.ends_at, now),
        "status": "over" if over else ("running" if now >= r.starts_at else "upcoming"),
    }


def work_list(user: User, now: datetime) -> list[dict]:
    """My rounds not over yet, each with my labs still to do (by building and floor), and the checklist
    version to answer: the phone's "my rounds", also saved for offline use. At most six queries
    whatever the number of rounds and labs (the offline bundle's statement budget)."""
    rounds = list(db.session.scalars(
        select(InspectionRound).where(
            InspectionRound.ends_at > now,
            InspectionRound.id.in_(select(RoundLab.round_id).where(RoundLab.inspector_id == user.id)))
        .order_by(InspectionRound.window_to, InspectionRound.id)))
    versions = dict(db.session.execute(
        select(Checklist.key, Checklist.current_version_id).where(Checklist.key.in_({r.checklist_key for r in rounds}))
    ).all()) if rounds else {}
    figures = counts([r.id for r in rounds])
    mine: dict[int, list[dict]] = {r.id: [] for r in rounds}
    if rounds:
        for round_id, lab in _lab_rows([RoundLab.round_id.in_(mine), RoundLab.inspector_id == user.id], now):
            if lab["state"] != "done":
                mine[round_id].append(lab)
    return [{**round_summary(r, figures.get(r.id), now), "level": LEVEL_OF_KIND[r.kind],
             "checklist_version_id": versions.get(r.checklist_key), "labs": mine[r.id]} for r in rounds]


def draw_record(r: InspectionRound) -> dict:
    """A spot check's draw, redone from its stored seed and population: ``redone`` equals the round's labs."""
    if r.draw_n is None:
        raise NotFound(_("This round was not drawn at random."))
    labs = sorted(db.session.scalars(select(RoundLab.lab_id).where(RoundLab.round_id == r.id)))
    redone = draw(r.population or [], r.draw_n, r.seed)
    return {"seed": r.seed, "n": r.draw_n, "population": r.population or [], "labs": labs, "redone": redone,
            "matches": redone == labs,
            "method": "random.Random(seed).sample(population, n), sorted; population: the scope's lab ids in id order"}


# ---- the submit carries the round (inspections calls this through the hook create_app registers) ----

def check_submit_round(user, round_id: int, lab_id: int) -> None:
    """An inspection submitted for a round: the round exists, the lab is in it and the user is
    assigned to it (400 / 403 otherwise). The window is not checked here: an inspection finished
    outside it is stored and simply does not count (nothing submitted is lost)."""
    row = db.session.execute(
        select(InspectionRound.id, RoundLab.lab_id, RoundLab.inspector_id)
        .outerjoin(RoundLab, and_(RoundLab.round_id == InspectionRound.id, RoundLab.lab_id == lab_id))
        .where(InspectionRound.id == round_id)
    ).first()
    if row is None:
        raise InvalidInput(_("No such round."), {"fields": {"round_id": [_("No such round.")]}})
    if row.lab_id is None:
        raise InvalidInput(_("This lab is not in that round."), {"fields": {"round_id": [_("Lab not in the round.")]}})
    if row.inspector_id != user.id:
        raise Forbidden(_("You are not assigned to this lab in that round."))



# ---- figures for the dashboards and the monthly summary (issue 22: planned / done / late per round
# and per college, month over month) ---------------------------------------------------------------
#
# A round belongs to the month its window *ends* in (``window_to``, a school-local date): that is
# when it is judged done or late, so a round running from 25 September to 10 October is October's.
# A round's lab counts for the lab's college (a school-wide round's labs each for their own college);
# a college's figures count only its labs, of its own rounds and of the school's. Done is ``is_done``
# (the one definition), so an inspection finished inside the window and synced after it counts;
# late is not done with the window over, as ``round_summary`` says. An unannounced round (抽查,
# art. 28) is left out until its window starts, whoever reads the figures.

@dataclass
class Tally:
    planned: int = 0
    done: int = 0
    late: int = 0

    @property
    def pending(self) -> int:
        return self.planned - self.done - self.late

    def add(self, planned: int, done: int, late: int) -> None:
        self.planned += planned
        self.done += done
        self.late += late


@dataclass
class CollegeFigures:
    college_id: int
    code: str
    name: str
    name_en: str | None
    months: dict[date, Tally]  # first day of each month -> its rounds' labs in this college


@dataclass
class RoundFigures:
    months: list[date]  # first days, oldest first
    college_id: int | None  # None: the whole school
    rounds: list[dict]  # round_summary(...) of each round in the months, plus "month"; by window end
    colleges: list[CollegeFigures]  # by code
    total: dict[date, Tally]  # the scope's labs, per month

    def of_month(self, month: date) -> list[dict]:
        return [r for r in self.rounds if r["month"] == month]


def _figure_rounds(first_month: date, last_month: date, college_id: int | None, now: datetime):
    """The WHERE clause of the rounds the figures count: window ending in the months, announced or
    started, with a lab in the college when one is asked for."""
    where = [InspectionRound.window_to >= first_month, InspectionRound.window_to < add_months(last_month, 1),
             or_(InspectionRound.unannounced.is_(False), InspectionRound.starts_at <= now)]
    if college_id is not None:
        where.append(InspectionRound.id.in_(
            select(RoundLab.round_id).join(Lab, Lab.id == RoundLab.lab_id).where(Lab.college_id == college_id)))
    return where


def round_figures(first_month: date, last_month: date, college_id: int | None, now: datetime) -> RoundFigures:
    """Planned / done / late per round and per college for the months ``first_month`` .. ``last_month``
    (first days, school-local) of the school (``college_id`` None) or one college, as of ``now``:
    three statements whatever the number of months, rounds and labs (bench.round_figures)."""
    first_month, last_month = first_month.replace(day=1), last_month.replace(day=1)
    months = [first_month]
    while months[-1] < last_month:
        months.append(add_months(months[-1], 1))
    where = _figure_rounds(first_month, last_month, college_id, now)
    rounds = list(db.session.scalars(
        select(InspectionRound).options(defer(InspectionRound.population), defer(InspectionRound.selection))
        .where(*where).order_by(InspectionRound.window_to, InspectionRound.id)))
    # Each round's labs per college, and how many are done: the done ones in a WHERE EXISTS (a
    # semi-join, as in ``counts``), joined back. Rounds x colleges rows at most.
    in_scope = [RoundLab.round_id.in_(select(InspectionRound.id).where(*where))]
    if college_id is not None:
        in_scope.append(Lab.college_id == college_id)
    done = (select(RoundLab.id).join(InspectionRound, InspectionRound.id == RoundLab.round_id)
            .join(Lab, Lab.id == RoundLab.lab_id).where(*in_scope, is_done()).subquery())
    per_college = db.session.execute(
        select(RoundLab.round_id, Lab.college_id, func.count(), func.count(done.c.id))
        .join(Lab, Lab.id == RoundLab.lab_id).outerjoin(done, done.c.id == RoundLab.id)
        .where(*in_scope).group_by(RoundLab.round_id, Lab.college_id)
    ).all()
    college_stmt = select(College.id, College.code, College.name, College.name_en).order_by(College.code)
    if college_id is not None:
        college_stmt = college_stmt.where(College.id == college_id)
    colleges = {c.id: CollegeFigures(c.id, c.code, c.name, c.name_en, {m: Tally() for m in months})
                for c in db.session.execute(college_stmt)}

    by_id = {r.id: r for r in rounds}
    per_round: dict[int, Tally] = {r.id: Tally() for r in rounds}
    total = {m: Tally() for m in months}
    for round_id, lab_college_id, planned, n_done in per_college:
        r = by_id.get(round_id)
        if r is None:  # planned between the two statements
            continue
        month = r.window_to.replace(day=1)
        late = _late(planned, n_done, r.ends_at, now)
        per_round[round_id].add(planned, n_done, late)
        total[month].add(planned, n_done, late)
        if lab_college_id in colleges:
            colleges[lab_college_id].months[month].add(planned, n_done, late)
    out = []
    for r in rounds:
        t = per_round[r.id]
        if t.planned:  # a round of no lab in the scope (moved meanwhile) is not the scope's
            out.append({**round_summary(r, {"planned": t.planned, "done": t.done}, now),
                        "month": r.window_to.replace(day=1)})
    return RoundFigures(months=months, college_id=college_id, rounds=out, colleges=list(colleges.values()),
                        total=total)

"""Recurring rounds (issue 22): a rule plans a round each period, through ``services.create_round``.

A rule says what to plan (kind, checklist, labs, inspectors spread evenly) and how often:
``monthly`` (calendar months, school-local: the college's check, art. 28), ``semester`` (the school's
semesters, app/semesters.py: the school-wide check, art. 27) or ``by_risk``.

**By risk grade** (a college's monthly rule; MOE 2024 measures via org.risk): each lab is checked as
often as its grade's default cadence says (``default_cadence``: I weekly, II fortnightly, III, IV and
ungraded monthly), with its grade's list (``checklist_keys``: the first fit for a college check) unless
the rule names one. The rule plans one round per cadence and list per period of that cadence: a
week's round holds the week's grade I labs, a half-month's (1st–15th, 16th–end: two per calendar
month, so the monthly summary sees two) the grade II ones, the month's the rest. Simple to read on
the work list and in the figures (one round per group, the usual window), and a lab regraded moves to
its new group from the next period its cadence begins; no per-lab schedule to keep.

**When** (``plan_due_rounds``, by the nightly job after each school-local day, and by
``flask rounds generate``): on the night after ``day``, every unpaused rule that existed by then plans
each period not over by the next day and beginning within its ``lead_days`` after it. The rule, the
period's first day and the part (``"<cadence>:<checklist>"``) are unique on the round, so planning is
idempotent, and a catch-up over missed nights plans what one run a night would have. A period whose
round cannot be planned (no lab left, an inspector who may no longer inspect) is logged and tried again
the next night. Closed labs are skipped by create_round (``closed_throughout``).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import RoleAssignment, User
from app.checklists import services as checklists
from app.checklists.models import Checklist, ChecklistKind
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.inspections.daily_checks import lock_days
from app.language import pick
from app.org import risk
from app.org.models import College, Department, Lab
from app.policy import Action, Role, may
from app.semesters import semesters_from
from app.timeutil import add_months, day_bounds_utc, utcnow

from . import services
from .models import LEVEL_OF_KIND, InspectionRound, Recurrence, RoundKind, RoundRule, RoundRuleChange

log = logging.getLogger(__name__)

RISK_CADENCES = ("weekly", "fortnightly", "monthly")  # org.risk.CADENCE_DAYS' keys, shortest first


# ---- periods ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    cadence: str  # weekly, fortnightly, monthly, semester
    start: date  # school-local, inclusive
    end: date  # school-local, inclusive

    @property
    def label(self) -> str:
        """Language-neutral, for a round's title: 2026-W49, 2026-12-01–15, 2026-12, 2026-09-07–2027-01-17."""
        if self.cadence == "weekly":
            year, week, _day = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.cadence == "fortnightly":
            return f"{self.start.isoformat()}–{self.end.day:02d}"
        if self.cadence == "monthly":
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}–{self.end.isoformat()}"


def periods_from(cadence: str, day: date, config) -> Iterator[Period]:
    """The periods of a cadence that end on or after ``day``, in order (weeks Monday to Sunday)."""
    if cadence == "semester":
        yield from (Period("semester", s.start, s.end) for s in semesters_from(day, config))
        return
    if cadence == "weekly":
        start = day - timedelta(days=day.weekday())
        while True:
            yield Period(cadence, start, start + timedelta(days=6))
            start += timedelta(days=7)
    start = day.replace(day=1)
    while True:
        nxt = add_months(start, 1)
        if cadence == "fortnightly":
            middle = start.replace(day=16)
            if middle > day:
                yield Period(cadence, start, middle - timedelta(days=1))
            yield Period(cadence, middle, nxt - timedelta(days=1))
        else:
            yield Period(cadence, start, nxt - timedelta(days=1))
        start = nxt


def due_periods(cadence: str, first_day: date, lead_days: int, config) -> list[Period]:
    """The periods to have planned when ``first_day`` begins: not over, and beginning within ``lead_days``."""
    due = []
    for period in periods_from(cadence, first_day, config):
        if period.start > first_day + timedelta(days=lead_days):
            break
        due.append(period)
    return due


def cadences(rule: RoundRule) -> tuple[str, ...]:
    return RISK_CADENCES if rule.recurrence is Recurrence.by_risk else (rule.recurrence.value,)


def next_periods(rule: RoundRule, today: date, config) -> list[dict]:
    """Per cadence, the first period beginning after today and the day its round is planned by (the
    night before that day begins it)."""
    out = []
    for cadence in cadences(rule):
        period = next((p for p in periods_from(cadence, today, config) if p.start > today), None)
        if period is not None:
            out.append({"cadence": cadence, "start": period.start, "end": period.end, "label": period.label,
                        "plan_on": max(today, period.start - timedelta(days=rule.lead_days))})
    return out


# ---- rules: facts for the policy, creation, changes --------------------------------------------

def rule_facts(rule: RoundRule) -> services.RoundFacts:
    """A rule as the policy reads a round it would plan (PLAN_ROUND: the same rule for both)."""
    return services.RoundFacts(kind=rule.kind.value, owner_college_id=rule.owner_college_id,
                               department_id=rule.department_id)


def plan_facts(data: dict) -> services.RoundFacts:
    """What the policy needs to judge a rule being made (RuleInSchema-loaded ``data``): as for a round."""
    return services.plan_facts(data)


def get_rule(rule_id: int) -> RoundRule:
    rule = db.session.get(RoundRule, rule_id)
    if rule is None:
        raise NotFound(_("No such round rule."))
    return rule


def _fields(rule: RoundRule) -> dict:
    return {"title": rule.title, "kind": rule.kind.value, "topic": rule.topic,
            "owner_college_id": rule.owner_college_id, "checklist_key": rule.checklist_key,
            "labs": rule.selection, "inspector_ids": rule.inspector_ids, "recurrence": rule.recurrence.value,
            "lead_days": rule.lead_days, "paused": rule.paused}


def _record(rule_id: int, by_id: int, what: str, detail: dict) -> None:
    db.session.add(RoundRuleChange(rule_id=rule_id, by_id=by_id, what=what, detail=detail, at=utcnow()))


def _check_inspectors(ids: list[int]) -> list[int]:
    ids = sorted(set(ids))
    services._inspectors(ids)  # each an active user, or a 400 naming the others
    return ids


def create_rule(user, data: dict, facts: services.RoundFacts, today: date) -> RoundRule:
    """Make a rule (``data``: RuleInSchema-loaded; ``facts``: ``plan_facts(data)``, the policy said yes).
    Its labs are chosen as a round's would be today (a choice that names no lab, or a lab that cannot
    be in its rounds, is refused now rather than every night). Its rounds are planned by the nightly
    job (or ``flask rounds generate``)."""
    kind, recurrence = RoundKind(data["kind"]), Recurrence(data["recurrence"])
    if recurrence is Recurrence.by_risk and kind is not RoundKind.college_monthly:
        raise InvalidInput(_("Only a college's monthly check follows its labs' risk grades."),
                           {"fields": {"recurrence": [_("By risk grade: a college monthly rule only.")]}})
    key = data.get("checklist_key")
    if key:
        services._check_checklist(key, kind)
    elif recurrence is not Recurrence.by_risk:
        raise InvalidInput(_("Choose the checklist the rounds use."),
                           {"fields": {"checklist_key": [_("Required unless by risk grade.")]}})
    if not services.scope_lab_ids(data["labs"], facts.owner_college_id, (today, today)):
        raise InvalidInput(_("No lab matches this choice."), {"fields": {"labs": [_("No lab matches.")]}})
    rule = RoundRule(
        title=data["title"], kind=kind, topic=data.get("topic") if kind is RoundKind.special else None,
        owner_college_id=facts.owner_college_id, department_id=facts.department_id, checklist_key=key or None,
        selection=dict(data["labs"]), inspector_ids=_check_inspectors(data.get("inspector_ids") or []),
        recurrence=recurrence, lead_days=data["lead_days"], paused=False, created_by_id=user.id, created_at=utcnow(),
    )
    db.session.add(rule)
    db.session.flush()
    _record(rule.id, user.id, "created", _fields(rule))
    db.session.commit()
    return rule


def change_rule(user, rule: RoundRule, data: dict) -> RoundRule:
    """Pause or resume a rule, rename it, or change its inspectors (RuleChangeSchema-loaded ``data``).
    Rounds planned already keep theirs (their assignments change on the round); recorded (art. 30)."""
    before = _fields(rule)
    if "inspector_ids" in data:
        rule.inspector_ids = _check_inspectors(data["inspector_ids"])
    if "title" in data:
        rule.title = data["title"]
    if "paused" in data:
        rule.paused = data["paused"]
    after = _fields(rule)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        what = ("paused" if rule.paused else "resumed") if set(changed) == {"paused"} else "changed"
        _record(rule.id, user.id, what, changed)
    db.session.commit()
    return rule


# ---- reading ---------------------------------------------------------------------------------

def list_rules(user, today: date, config) -> list[dict]:
    """The rules this user may plan (PLAN_ROUND on each rule's facts; rules are few: a couple per
    college), with their rounds planned so far and their next periods. Two queries."""
    rules = [r for r in db.session.scalars(select(RoundRule).order_by(RoundRule.id))
             if may(user, Action.PLAN_ROUND, rule_facts(r))]
    if not rules:
        return []
    planned = {rule_id: (n, last) for rule_id, n, last in db.session.execute(
        select(InspectionRound.rule_id, func.count(), func.max(InspectionRound.period_start))
        .where(InspectionRound.rule_id.in_([r.id for r in rules])).group_by(InspectionRound.rule_id))}
    return [rule_summary(r, planned.get(r.id, (0, None)), today, config) for r in rules]


def list_one(rule: RoundRule, today: date, config) -> dict:
    row = db.session.execute(select(func.count(), func.max(InspectionRound.period_start))
                             .where(InspectionRound.rule_id == rule.id)).one()
    return rule_summary(rule, tuple(row), today, config)


def rule_summary(rule: RoundRule, planned: tuple[int, date | None], today: date, config) -> dict:
    return {**_fields(rule), "id": rule.id, "department_id": rule.department_id, "created_by_id": rule.created_by_id,
            "created_at": rule.created_at, "rounds_planned": planned[0], "last_period_start": planned[1],
            "next_periods": next_periods(rule, today, config)}


def planner_reach(user) -> dict:
    """Where this user may plan rules (PLAN_ROUND on the facts of each owner): the school's rules
    (school-wide, or a department's special checks) and which colleges'. For the page's form."""
    colleges = [c for c in db.session.scalars(select(College).where(College.active.is_(True)).order_by(College.code))
                if may(user, Action.PLAN_ROUND, services.RoundFacts(kind="college_monthly", owner_college_id=c.id,
                                                                     department_id=None))]
    departments = {dept for dept in db.session.scalars(select(Department.id))}
    school = may(user, Action.PLAN_ROUND, services.RoundFacts("school_wide", None, None)) or any(
        may(user, Action.PLAN_ROUND, services.RoundFacts("special", None, d)) for d in departments)
    return {"school": school, "colleges": colleges}


def inspector_choices(reach: dict) -> list[tuple[int, str, int | None]]:
    """(user id, name, college id or None for the school's) of the active inspectors a planner may pick."""
    college_ids = {c.id for c in reach["colleges"]}
    rows = db.session.execute(
        select(User.id, User.name, RoleAssignment.college_id).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == Role.inspector, User.active.is_(True)).order_by(User.name, User.id)).all()
    return [(r.id, r.name, r.college_id) for r in rows
            if (r.college_id is None and reach["school"]) or r.college_id in college_ids]


def checklist_choices() -> list[tuple[str, str]]:
    """(key, title in the reader's language) of the lists a round may use: the full lists first, then
    the special ones (never the daily list)."""
    rows = db.session.execute(select(Checklist.key, Checklist.title, Checklist.title_en, Checklist.kind)).all()
    usable = [r for r in rows if any(level != "daily" for level in checklists.LEVELS_BY_KIND[r.kind])]
    return [(r.key, pick(r.title, r.title_en))
            for r in sorted(usable, key=lambda r: (r.kind != ChecklistKind.full, r.key))]


# ---- generation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Author:
    """The rule's maker, as create_round reads its planner: the round's ``created_by_id``."""

    id: int


def _risk_checklist(level, kinds: dict, round_kind: RoundKind) -> str | None:
    """The grade's first list that fits the round's level (a college check runs a full list)."""
    wanted = LEVEL_OF_KIND[round_kind]
    return next((k for k in risk.checklist_keys(level)
                 if k in kinds and wanted in checklists.LEVELS_BY_KIND[kinds[k]]), None)


def _risk_groups(rule: RoundRule, period: Period, levels: dict, kinds: dict) -> dict[str, tuple[list[int], list]]:
    """The rule's labs whose grade's cadence is the period's, by checklist: {key: (lab ids, grades)}."""
    groups: dict[str, tuple[list[int], list]] = {}
    listless = []
    for lab_id in services.scope_lab_ids(rule.selection, rule.owner_college_id, (period.start, period.end)):
        level = levels.get(lab_id)
        if risk.default_cadence(level).key != period.cadence:
            continue
        key = rule.checklist_key or _risk_checklist(level, kinds, rule.kind)
        if key is None:  # none of the grade's lists (risk_grading.toml) is loaded and fits a college check
            listless.append(lab_id)
            continue
        ids, grades = groups.setdefault(key, ([], []))
        ids.append(lab_id)
        grades.append(level)
    if listless:
        log.warning("round rule %s, %s: no checklist for %d labs, e.g. %s", rule.id, period.label, len(listless),
                    listless[:10])
    return groups


def _plan(rule: RoundRule, period: Period, key: str, selection: dict, title: str, config) -> bool:
    data = {"title": title[:200], "kind": rule.kind.value, "topic": rule.topic, "checklist_key": key,
            "window_from": period.start, "window_to": period.end, "labs": selection,
            "inspector_ids": list(rule.inspector_ids), "assign": "even", "assignments": [], "unannounced": False}
    origin = services.RuleOrigin(rule.id, period.start, f"{period.cadence}:{key}")
    try:
        services.create_round(_Author(rule.created_by_id), data, rule_facts(rule), config, origin=origin)
    except DomainError as err:
        log.warning("round rule %s, %s %s not planned: %s %s", rule.id, period.cadence, period.label, err.message,
                    str(getattr(err, "details", ""))[:200])
        return False
    return True


def plan_due_rounds(day: date, config) -> dict:
    """Plan the rounds due on the night after ``day`` (module docstring); the caller commits.

    Statements: a fixed number per rule and period, whatever the number of labs."""
    lock_days()  # PostgreSQL: one planner at a time, the nightly's or the CLI's (SQLite serialises writers)
    first = day + timedelta(days=1)
    end = day_bounds_utc(day, config["SCHOOL_TIMEZONE"])[1]
    rules = list(db.session.scalars(select(RoundRule).where(RoundRule.paused.is_(False), RoundRule.created_at < end)
                                    .order_by(RoundRule.id)))
    wanted = [(rule, period) for rule in rules for cadence in cadences(rule)
              for period in due_periods(cadence, first, rule.lead_days, config)]
    if not wanted:
        return {"planned": 0, "not_planned": 0}
    existing = set(db.session.execute(
        select(InspectionRound.rule_id, InspectionRound.period_start, InspectionRound.rule_part)
        .where(InspectionRound.rule_id.in_({r.id for r, _p in wanted}),
               InspectionRound.period_start >= min(p.start for _r, p in wanted))).all())
    begun = {(rule_id, start, part.split(":")[0]) for rule_id, start, part in existing}
    by_risk = {r.owner_college_id for r, _p in wanted if r.recurrence is Recurrence.by_risk}
    levels = dict(db.session.execute(select(Lab.id, Lab.risk_level).where(Lab.college_id.in_(by_risk))).all()) \
        if by_risk else {}
    kinds = dict(db.session.execute(select(Checklist.key, Checklist.kind)).all()) if by_risk else {}
    planned = not_planned = 0
    for rule, period in wanted:
        if rule.recurrence is not Recurrence.by_risk:
            if (rule.id, period.start, f"{period.cadence}:{rule.checklist_key}") in existing:
                continue
            ok = _plan(rule, period, rule.checklist_key, dict(rule.selection), f"{rule.title} · {period.label}", config)
            planned, not_planned = planned + ok, not_planned + (not ok)
            continue
        if (rule.id, period.start, period.cadence) in begun:
            continue  # the period's groups are planned together, the night it came due
        try:
            groups = _risk_groups(rule, period, levels, kinds)
        except DomainError as err:
            log.warning("round rule %s: its labs cannot be chosen: %s", rule.id, err.message)
            not_planned += 1
            continue
        for key, (ids, grades) in sorted(groups.items()):
            shown = "/".join([risk.ROMAN[g] for g in sorted(set(grades) - {None})] + ["–"] * (None in grades))
            selection = {"mode": "list", "lab_ids": ids, "by_risk": {"cadence": period.cadence, "rule": rule.selection}}
            ok = _plan(rule, period, key, selection, f"{rule.title} · {period.label} · {shown}", config)
            planned, not_planned = planned + ok, not_planned + (not ok)
    return {"planned": planned, "not_planned": not_planned}


def plan_due_rounds_now(day: date, config) -> dict:
    """``plan_due_rounds`` in a transaction of its own (the CLI's): committed; a twin run that planned a
    period first (SQLite: between our reads and our first write; PostgreSQL waits on the lock) makes the
    unique (rule, period, part) refuse ours, and once more plans what is left."""
    for attempt in (1, 2):
        try:
            result = plan_due_rounds(day, config)
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover

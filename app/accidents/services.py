"""Accidents: report (art. 31), grade (art. 33), the unit's and the investigation's reports (art. 31, 32),
close; the one-vote veto per college and year (art. 5); counts by grade for the summary and dashboards.

Services take plain arguments; the views ask the policy first. Every change writes an AccidentEvent in
the same transaction (art. 30).
"""
from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.extensions import db
from app.notifications import services as notices
from app.org.models import Department, Lab
from app.org.services import lab_filter
from app.photos import services as photo_services
from app.policy import Action, accident_clause
from app.timeutil import day_bounds_utc, format_deadline, utcnow

from . import grading
from .models import (
    INVESTIGATED_GRADES,
    Accident,
    AccidentEvent,
    AccidentGrade,
    AccidentPhoto,
    AccidentReport,
    AccidentState,
    EnvironmentDamage,
    ReportKind,
    StabilityHarm,
)

MAX_ID = 2**31 - 1
S = AccidentState
# The departments told of every accident at once (art. 31: "及时将事故报告学校"), by code: the lab
# management office (art. 9(1)) and the security office (保卫处, art. 9(2)); a setting.
DEFAULT_NOTIFY_DEPARTMENTS = ("lab_management", "security")
# A report's occurred_at may run ahead of the server's clock by this much (phones' clocks drift).
CLOCK_SKEW = timedelta(minutes=10)


# ---- reading -------------------------------------------------------------------------------------

def get_accident(accident_id: int) -> Accident:
    a = db.session.get(Accident, accident_id) if 0 < accident_id <= MAX_ID else None
    if a is None:
        raise NotFound(_("No such accident."))
    return a


def list_accidents(user, *, tz: str, year: int | None = None, college_id: int | None = None, state: str | None = None,
                   limit: int = 100, offset: int = 0) -> list[Accident]:
    """The accidents this user may see (the policy's accident_clause), newest first: one query."""
    stmt = select(Accident).where(accident_clause(user, lab_id=Accident.lab_id, college_id=Accident.college_id,
                                                  reported_by_id=Accident.reported_by_id))
    if college_id is not None:
        stmt = stmt.where(Accident.college_id == college_id)
    if state is not None:
        stmt = stmt.where(Accident.state == state)
    if year is not None:
        start, end = year_bounds(year, tz)
        stmt = stmt.where(Accident.occurred_at >= start, Accident.occurred_at < end)
    stmt = stmt.order_by(Accident.occurred_at.desc(), Accident.id.desc()).limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


def labs_to_report(user) -> list[Lab]:
    """The active labs this user may report an accident in (REPORT_ACCIDENT), by code: the phone's form
    offers them, offline too (a college's head or a department officer inspects no lab, so the offline
    bundle holds none of them). One query."""
    return list(db.session.scalars(select(Lab).where(Lab.active.is_(True), lab_filter(user, Action.REPORT_ACCIDENT))
                                   .order_by(Lab.code)))


def events_of(accident_id: int) -> list[AccidentEvent]:
    return list(db.session.scalars(
        select(AccidentEvent).where(AccidentEvent.accident_id == accident_id).order_by(AccidentEvent.id)))


def photos_of(accident_id: int) -> list[str]:
    return list(db.session.scalars(select(AccidentPhoto.photo_uuid).where(AccidentPhoto.accident_id == accident_id)
                                   .order_by(AccidentPhoto.position, AccidentPhoto.id)))


def reports_of(accident_id: int) -> dict[str, AccidentReport]:
    rows = db.session.scalars(select(AccidentReport).where(AccidentReport.accident_id == accident_id))
    return {r.kind.value: r for r in rows}


def get_report(accident_id: int, kind: str) -> AccidentReport:
    r = reports_of(accident_id).get(kind)
    if r is None:
        raise NotFound(_("This report has not been filed."))
    return r


def is_overdue(a: Accident, now: datetime | None = None) -> bool:
    """The unit's written report is past its deadline and not filed (art. 31)."""
    return a.state == S.reported and (now or utcnow()) > a.unit_report_due_at


def next_steps(a: Accident) -> list[str]:
    """What the accident waits for, in order: grade, unit report, investigation, closing."""
    steps = []
    if a.state == S.closed:
        return steps
    if a.grade is None:
        steps.append("confirm_grade")
    if a.state == S.reported:
        steps.append("unit_report")
    elif a.state == S.unit_reported and a.grade in INVESTIGATED_GRADES:
        steps.append("investigation")
    if _why_not_close(a) is None:
        steps.append("close")
    return steps


# ---- reporting (art. 31) --------------------------------------------------------------------------

def year_bounds(year: int, tz: str) -> tuple[datetime, datetime]:
    """A school-local year (SCHOOL_TIMEZONE) as naive UTC [start, end)."""
    return day_bounds_utc(date(year, 1, 1), tz)[0], day_bounds_utc(date(year + 1, 1, 1), tz)[0]


def normalise_uuid(value) -> str:
    try:
        return str(uuidlib.UUID(str(value).strip()))
    except (ValueError, AttributeError):
        raise InvalidInput(_("client_uuid must be a UUID."), {"fields": {"client_uuid": ["invalid"]}}) from None


def replayed(user, client_uuid: str) -> Accident | None:
    """The accident already reported under ``client_uuid`` by this user (the outbox sent it again), or
    None; another user's UUID is a 409."""
    a = db.session.scalar(select(Accident).where(Accident.client_uuid == client_uuid))
    if a is not None and a.reported_by_id != user.id:
        raise Conflict(_("This client_uuid was already used for another report; make a new UUID for each report."),
                       {"client_uuid": client_uuid})
    return a


def facts_of(data) -> grading.Facts:
    return grading.Facts(
        deaths=data.get("deaths", 0), serious_injuries=data.get("serious_injuries", 0),
        light_injuries=data.get("light_injuries", 0), property_loss_yuan=data.get("property_loss_yuan", 0),
        environment=EnvironmentDamage(data.get("environment", "none")),
        stability=StabilityHarm(data.get("stability", "none")),
    )


def report_accident(user, lab: Lab, data: dict, config) -> tuple[Accident, bool]:
    """Record an accident in ``lab`` (the view checked REPORT_ACCIDENT) and tell at once the lab's
    officers, the college's leader and head, the school office and the departments in
    ``ACCIDENT_NOTIFY_DEPARTMENTS`` (art. 31), in-app and by e-mail. Commits.

    Returns (accident, created): the same ``client_uuid`` again is the accident already recorded
    (created False), nothing written twice."""
    client_uuid = normalise_uuid(data["client_uuid"])
    found = replayed(user, client_uuid)
    if found is not None:
        return found, False
    now = utcnow()
    occurred_at = data["occurred_at"]
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput(_("The accident cannot have happened in the future."),
                           {"fields": {"occurred_at": ["future"]}})
    proposal = grading.propose(facts_of(data), grading.loss_floors(config))
    a = Accident(
        client_uuid=client_uuid, lab_id=lab.id, college_id=lab.college_id, occurred_at=occurred_at,
        place=data.get("place") or "", description=data["description"], deaths=data.get("deaths", 0),
        serious_injuries=data.get("serious_injuries", 0), light_injuries=data.get("light_injuries", 0),
        property_loss_yuan=data.get("property_loss_yuan", 0),
        environment=EnvironmentDamage(data.get("environment", "none")),
        environment_note=data.get("environment_note") or "",
        stability=StabilityHarm(data.get("stability", "none")), stability_note=data.get("stability_note") or "",
        first_measures=data.get("first_measures") or "", proposed_grade=proposal.grade, state=S.reported,
        unit_report_due_at=now + timedelta(days=int(config.get("ACCIDENT_UNIT_REPORT_DAYS", 7))),
        reported_by_id=user.id, reported_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(a)
            db.session.flush()
    except IntegrityError:
        # The same report sent twice at once: the unique client_uuid let one in.
        db.session.rollback()
        found = replayed(user, client_uuid)
        if found is None:
            raise
        return found, False
    for position, photo_uuid in enumerate(dict.fromkeys(data.get("photos") or ())):
        db.session.add(AccidentPhoto(accident_id=a.id, photo_uuid=photo_uuid, position=position))
    _event(a, user, "reported", None, S.reported,
           {"proposed_grade": proposal.grade.value, "criteria": list(proposal.criteria)}, now)
    _notify_reported(a, lab, user, config)
    db.session.commit()
    return a, True


def form_photo_uuids(client_uuid: str, n: int) -> list[str]:
    """The UUIDs of the web form's ``n`` photos, following from the form's client_uuid: the same form sent
    twice names (and stores) each photo once. None for a client_uuid that is not one (the schema says so)."""
    try:
        namespace = uuidlib.UUID(str(client_uuid).strip())
    except ValueError:
        return []
    return [str(uuidlib.uuid5(namespace, f"photo:{i}")) for i in range(n)]


def store_form_photos(user, photo_uuids: list[str], files: list[bytes], config) -> list[str]:
    """Store the web form's photos under the UUIDs its accident names (after the report: report first,
    evidence after). Returns why each refused photo was refused; the others are stored (each commits)."""
    reasons = []
    for photo_uuid, data in zip(photo_uuids, files, strict=False):
        try:
            photo_services.store_photo(user, photo_uuid, data, config)
        except DomainError as err:
            db.session.rollback()
            reasons.append(err.message)
    return reasons


def notified_departments(config) -> list[int]:
    codes = list(config.get("ACCIDENT_NOTIFY_DEPARTMENTS") or DEFAULT_NOTIFY_DEPARTMENTS)
    return list(db.session.scalars(select(Department.id).where(Department.code.in_(codes)).order_by(Department.id)))


def recipients(a: Accident, config) -> list:
    """Who hears of an accident at once (art. 31): the lab's officers, the college's leader and head
    (art. 10), the school office (art. 9(1)) and the notified departments' officers (art. 9)."""
    users = [*notices.lab_officers(a.lab_id), *notices.college_oversight(a.college_id), *notices.school_admins()]
    for department_id in notified_departments(config):
        users.extend(notices.department_officers(department_id))
    return users


def _notify_reported(a: Accident, lab: Lab, user, config) -> None:
    notices.notify(
        recipients(a, config), kind=notices.ACCIDENT_REPORTED,
        facts=notices.TitleFacts(lab=lab.name, lab_en=lab.name_en, title=a.description[:120]),
        params={"accident_id": a.id, "at": format_deadline(a.occurred_at, config["SCHOOL_TIMEZONE"]),
                "grade": a.proposed_grade.value},
        body=a.description[:2000], link=f"/accidents/{a.id}", lab_id=a.lab_id, dedupe_key=f"accident:{a.id}",
        config=config, exclude_user_id=user.id,
    )


def _event(a: Accident, user, kind: str, from_state, to_state, detail: dict, at: datetime | None = None) -> None:
    db.session.add(AccidentEvent(
        accident_id=a.id, at=at or utcnow(), actor_id=user.id, kind=kind,
        from_state=from_state.value if from_state is not None else None,
        to_state=to_state.value if to_state is not None else None, detail=detail))


# ---- grade (art. 33) --------------------------------------------------------------------------------

def confirm_grade(user, a: Accident, grade: AccidentGrade, reason: str) -> Accident:
    """The school confirms the proposed grade, or sets another with a reason (recorded). Again later
    (before closing): a change, with a reason. Commits."""
    if a.state == S.closed:
        raise Conflict(_("This accident is closed."))
    reason = (reason or "").strip()
    differs = grade != (a.grade or a.proposed_grade)
    if differs and not reason:
        raise InvalidInput(_("Give a reason for a grade other than the proposed or confirmed one."),
                           {"fields": {"reason": ["required"]}})
    if a.state == S.investigated and grade not in INVESTIGATED_GRADES:
        raise Conflict(_("An investigated accident keeps a grade of I to III."))
    kind = "grade_changed" if differs else "grade_confirmed"
    _event(a, user, kind, None, None,
           {"from": (a.grade or a.proposed_grade).value, "to": grade.value, "proposed": a.proposed_grade.value,
            "reason": reason})
    a.grade = grade
    db.session.commit()
    return a


# ---- reports (art. 31, 32) ---------------------------------------------------------------------------

def file_report(user, a: Accident, kind: ReportKind, data: dict) -> AccidentReport:
    """File the unit's written report (art. 31) or the investigation team's (art. 32, grades I-III, after
    the unit's and once the grade is confirmed). Filed once, never changed. Commits."""
    if a.state == S.closed:
        raise Conflict(_("This accident is closed."))
    if kind == ReportKind.unit:
        if a.state != S.reported:
            raise Conflict(_("The unit's report was already filed."))
        to = S.unit_reported
    else:
        if a.state != S.unit_reported:
            raise Conflict(_("The investigation report follows the unit's report, once."))
        if a.grade not in INVESTIGATED_GRADES:
            raise Conflict(_("Only an accident confirmed as grade I to III is investigated by a school team."))
        if not (data.get("nature") or "").strip() or not (data.get("responsibility") or "").strip():
            raise InvalidInput(_("An investigation report states the accident's nature and responsibility."),
                               {"fields": {"nature": ["required"], "responsibility": ["required"]}})
        to = S.investigated
    report = AccidentReport(
        accident_id=a.id, kind=kind, summary=data["summary"], causes=data.get("causes") or "",
        nature=data.get("nature") or "", responsibility=data.get("responsibility") or "",
        measures=data.get("measures") or "", proposals=data.get("proposals") or "", filed_by_id=user.id,
    )
    db.session.add(report)
    frm = a.state
    a.state = to
    db.session.flush()
    _event(a, user, f"{kind.value}_report_filed", frm, to, {"report_id": report.id})
    db.session.commit()
    return report


def _why_not_close(a: Accident) -> str | None:
    if a.state == S.closed:
        return _("This accident is closed.")
    if a.grade is None:
        return _("Confirm the grade before closing.")
    if a.state == S.reported:
        return _("The unit's report is not filed yet.")
    if a.grade in INVESTIGATED_GRADES and a.state != S.investigated:
        return _("A grade I to III accident is closed after the investigation report.")
    return None


def close(user, a: Accident, note: str) -> Accident:
    why = _why_not_close(a)
    if why is not None:
        raise Conflict(why)
    frm = a.state
    a.state = S.closed
    a.closed_at = utcnow()
    _event(a, user, "closed", frm, S.closed, {"note": (note or "").strip()})
    db.session.commit()
    return a


# ---- art. 5: the one-vote veto; counts by grade -----------------------------------------------------

def vetoed_colleges(year: int, tz: str, college_ids: Iterable[int] | None = None,
                    until: datetime | None = None) -> dict[int, int]:
    """Art. 5 (一票否决): each college with an accident in the school-local ``year`` (up to ``until``, naive
    UTC: a month's summary as of its end) -> its number of accidents. One statement whatever the number
    of colleges."""
    start, end = year_bounds(year, tz)
    if until is not None:
        end = min(end, until)
    stmt = (select(Accident.college_id, func.count()).where(Accident.occurred_at >= start, Accident.occurred_at < end)
        .group_by(Accident.college_id))
    if college_ids is not None:
        stmt = stmt.where(Accident.college_id.in_(list(college_ids)))
    return {college_id: n for college_id, n in db.session.execute(stmt)}


def is_vetoed(college_id: int, year: int, tz: str) -> bool:
    return bool(vetoed_colleges(year, tz, [college_id]))


GRADES = tuple(g.value for g in AccidentGrade)


def counts_by_grade(start: datetime, end: datetime, college_id: int | None = None) -> dict[int, dict[str, int]]:
    """Accidents that happened in [start, end) (naive UTC) per college and grade (the confirmed one,
    else the proposed): {college_id: {"I": n, ..., "IV": n}}. One statement."""
    grade = func.coalesce(Accident.grade, Accident.proposed_grade)
    stmt = (select(Accident.college_id, grade, func.count())
            .where(Accident.occurred_at >= start, Accident.occurred_at < end)
            .group_by(Accident.college_id, grade))
    if college_id is not None:
        stmt = stmt.where(Accident.college_id == college_id)
    out: dict[int, dict[str, int]] = {}
    for cid, g, n in db.session.execute(stmt):
        out.setdefault(cid, dict.fromkeys(GRADES, 0))[g.value if hasattr(g, "value") else g] = n
    return out


def total_by_grade(counts: dict[int, dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(GRADES, 0)
    for row in counts.values():
        for g, n in row.items():
            total[g] += n
    return total


# ---- photos: what an accident's photo is evidence for (registered with photos by create_app) ---------

def labs_of_accident_photo(photo):
    """The labs whose accidents show this photo (a SELECT of lab ids)."""
    return (select(Accident.lab_id).join(AccidentPhoto, AccidentPhoto.accident_id == Accident.id)
            .where(AccidentPhoto.photo_uuid == photo.uuid))


def reporters_of_accident_photo(photo_uuid: str):
    """Who reported an accident referring to this photo UUID: only they may upload a photo under it."""
    return (select(Accident.reported_by_id).join(AccidentPhoto, AccidentPhoto.accident_id == Accident.id)
            .where(AccidentPhoto.photo_uuid == photo_uuid))

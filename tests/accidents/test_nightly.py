"""The nightly step of the unit's written report (art. 31): the college's leader and head are reminded
when it is due soon, and they and the school office are told once it is overdue; once per accident
across repeated nightly runs; a fixed number of statements whatever the number of accidents."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.accidents import nightly, services
from app.accidents.models import Accident, ReportKind
from app.auth.models import Role
from app.extensions import db
from app.jobs.services import day_just_ended, run_nightly
from app.notifications.models import Notification, OutboxEmail
from app.timeutil import day_bounds_utc, utcnow
from tests.factories import make_college, make_lab, make_user
from tests.factories.accidents import make_accident
from tests.statements import count_statements

from .helpers import world

UNIT = {"summary": "事故经过：试剂瓶破裂。", "causes": "操作不当", "measures": "加强培训"}


def _due(accident, at):
    db.session.execute(update(Accident).where(Accident.id == accident.id).values(unit_report_due_at=at))
    db.session.commit()


def _notices(kind=None):
    db.session.expire_all()
    stmt = select(Notification.user_id, Notification.dedupe_key, Notification.kind).where(
        Notification.kind.in_([nightly.ACCIDENT_REPORT_DUE, nightly.ACCIDENT_REPORT_OVERDUE]))
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return sorted(db.session.execute(stmt).all())


def _day_and_end():
    day = day_just_ended(current_app.config)
    return day, day_bounds_utc(day, current_app.config["SCHOOL_TIMEZONE"])[1]


def test_told_once_when_the_unit_report_becomes_overdue_and_reminded_before(app):
    w = world()
    day, end = _day_and_end()
    over = make_accident(w.officer, w.lab)
    soon = make_accident(w.officer, w.lab2)
    later = make_accident(w.officer, w.lab)
    filed = make_accident(w.officer, w.lab)
    elsewhere = make_accident(w.other_officer, w.other_lab)
    _due(over, end - timedelta(hours=1))
    _due(soon, utcnow() + timedelta(hours=1))
    _due(filed, end - timedelta(hours=1))
    _due(elsewhere, end - timedelta(days=3))
    services.file_report(w.leader, db.session.get(Accident, filed.id), ReportKind.unit, UNIT)
    assert services.is_overdue(db.session.get(Accident, over.id))

    summary = run_nightly(day, current_app.config, send_mail=False)
    overdue = _notices(nightly.ACCIDENT_REPORT_OVERDUE)
    assert sorted((u, k) for u, k, _ in overdue) == sorted(
        [(u, f"accident_report_overdue:{over.id}") for u in (w.leader.id, w.head.id, w.admin.id)]
        + [(u, f"accident_report_overdue:{elsewhere.id}") for u in (w.other_leader.id, w.admin.id)])
    due = _notices(nightly.ACCIDENT_REPORT_DUE)
    assert sorted((u, k) for u, k, _ in due) == sorted(
        (u, f"accident_report_due:{soon.id}") for u in (w.leader.id, w.head.id))
    assert summary["notifications"] >= len(overdue) + len(due)
    # Not the lab's officers, not another college, nothing for the accident reported on time or not yet due.
    told = {u for u, _k, _ in overdue + due}
    assert w.officer.id not in told and w.inspector.id not in told and w.lab_dept.id not in told
    assert not any(str(later.id) == k.rsplit(":", 1)[1] or str(filed.id) == k.rsplit(":", 1)[1]
                   for _u, k, _ in overdue + due)
    # An e-mail each, titled by the lab and the accident, with the kind's label in the reader's language.
    ids = select(Notification.id).where(Notification.kind == nightly.ACCIDENT_REPORT_OVERDUE)
    subjects = db.session.scalars(select(OutboxEmail.subject).where(OutboxEmail.notification_id.in_(ids))).all()
    assert len(subjects) == len(overdue) and all("逾期" in s for s in subjects)
    title = db.session.scalar(select(Notification.title).where(
        Notification.dedupe_key == f"accident_report_overdue:{over.id}", Notification.user_id == w.leader.id))
    assert w.lab.name in title and "试剂瓶破裂" in title
    link = db.session.scalar(select(Notification.link).where(
        Notification.dedupe_key == f"accident_report_overdue:{over.id}", Notification.user_id == w.leader.id))
    assert link == f"/accidents/{over.id}"

    first = _notices()
    # The same night again (a processed day is skipped), the step itself again: nothing more.
    run_nightly(day, current_app.config, send_mail=False)
    nightly.remind_unit_reports(day, end, utcnow(), current_app.config)
    db.session.commit()
    assert _notices() == first
    # The next night: the one due soon is now overdue, told once; the others are not told again.
    nightly.remind_unit_reports(day + timedelta(days=1), end + timedelta(days=1), utcnow() + timedelta(hours=2),
                                current_app.config)
    nightly.remind_unit_reports(day + timedelta(days=2), end + timedelta(days=2), utcnow() + timedelta(hours=3),
                                current_app.config)
    db.session.commit()
    added = sorted(set(_notices()) - set(first))
    assert sorted((u, k) for u, k, _ in added) == sorted(
        (u, f"accident_report_overdue:{soon.id}") for u in (w.leader.id, w.head.id, w.admin.id))


def _count(day, end):
    def step():
        nightly.remind_unit_reports(day, end, utcnow(), current_app.config)
        db.session.commit()

    return count_statements(step)


def test_the_step_costs_a_fixed_number_of_statements(app):
    day, end = _day_and_end()
    make_user(Role.school_admin)
    college = make_college()
    lab = make_lab(college)
    officer = make_user(Role.lab_officer, lab=lab)
    make_user(Role.college_leader, college=college)
    _due(make_accident(officer, lab), end - timedelta(hours=1))
    small = _count(day, end)
    for _i in range(12):
        c = make_college()
        other = make_lab(c)
        o = make_user(Role.lab_officer, lab=other)
        make_user(Role.college_leader, college=c)
        make_user(Role.college_head, college=c)
        _due(make_accident(o, other), end - timedelta(hours=2))
        _due(make_accident(o, other), utcnow() + timedelta(hours=5))
    large = _count(day, end)
    # 1 + 12 overdue accidents, each to its college's leader (and head) and the admin; 12 due soon.
    assert len(_notices(nightly.ACCIDENT_REPORT_OVERDUE)) == 2 + 12 * 3
    assert len(_notices(nightly.ACCIDENT_REPORT_DUE)) == 12 * 2
    assert small == large

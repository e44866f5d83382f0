"""The nightly reminder of access about to expire (art. 13): the lab's officers and the person (a user by
staff number or e-mail), once per access period across repeated runs; a fixed number of statements."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.jobs.services import run_nightly
from app.notifications.models import Notification
from app.roster import nightly, services
from app.timeutil import utcnow
from tests.factories import make_lab, make_user
from tests.factories.roster import make_entry
from tests.statements import count_statements


def _yesterday():
    return services.today(current_app.config) - timedelta(days=1)


def _reminders():
    db.session.expire_all()
    return sorted((n.user_id, n.dedupe_key) for n in db.session.scalars(
        select(Notification).where(Notification.kind == "access_expiring")))


def test_reminded_once_per_access_period_across_nightly_runs(app):
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    student = make_user(username="S2023001")  # no role: a student who is a user
    by_mail = make_user(email="wang@example.edu.cn")
    day = _yesterday()
    soon = make_entry(lab, staff_no="S2023001", valid_until=day + timedelta(days=3))
    mailed = make_entry(lab, staff_no="X9", email="wang@example.edu.cn", valid_until=day + timedelta(days=5))
    make_entry(lab, staff_no="LATER", valid_until=day + timedelta(days=60))  # not yet
    make_entry(lab, staff_no="GONE", valid_until=day)  # already expired that day
    revoked = make_entry(lab, staff_no="REV", valid_until=day + timedelta(days=2))
    services.revoke_entry(officer, revoked)
    run_nightly(day, current_app.config, send_mail=False)
    first = _reminders()
    keys = {f"access_expiring:{soon.id}:{soon.valid_until.isoformat()}",
            f"access_expiring:{mailed.id}:{mailed.valid_until.isoformat()}"}
    assert {k for _u, k in first} == keys
    assert sorted(u for u, _k in first) == sorted([officer.id, officer.id, student.id, by_mail.id])
    # The same night again, and the next nights: nothing more (a second run of a processed day is skipped,
    # so the step itself is run again too).
    run_nightly(day, current_app.config, send_mail=False)
    nightly.remind_expiring(day, utcnow(), current_app.config)
    nightly.remind_expiring(day + timedelta(days=1), utcnow(), current_app.config)
    db.session.commit()
    assert _reminders() == first
    # A renewed access (a new expiry) is announced again when its turn comes.
    services.update_entry(officer, soon, {"valid_until": day + timedelta(days=10)})
    nightly.remind_expiring(day + timedelta(days=1), utcnow(), current_app.config)
    db.session.commit()
    assert len(_reminders()) == len(first) + 2  # the officer and the student


def _count(day):
    def step():
        nightly.remind_expiring(day, utcnow(), current_app.config)
        db.session.commit()

    return count_statements(step)


def test_the_reminder_costs_a_fixed_number_of_statements(app):
    day = _yesterday()
    lab = make_lab()
    make_user(Role.lab_officer, lab=lab)
    make_entry(lab, staff_no="A0", valid_until=day + timedelta(days=2))
    small = _count(day)
    for i in range(15):
        other = make_lab()
        make_user(Role.lab_officer, lab=other)
        make_user(username=f"P{i}")
        make_entry(other, staff_no=f"P{i}", valid_until=day + timedelta(days=4))
    large = _count(day)
    assert len(_reminders()) == 1 + 15 * 2  # A0: its officer; each other: its officer and the person
    assert small == large

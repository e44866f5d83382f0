"""Labs closed in bulk for the holidays are not missed daily checks (art. 29); reopened early, they are
again; the flags stay idempotent."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.inspections.daily_checks import flag_missed
from app.inspections.models import MissedDailyCheck
from app.jobs.services import run_nightly
from app.org import closures
from tests.factories import backdate_lab, make_college, make_lab, make_user

D = date.fromisoformat


def missed():
    db.session.expire_all()
    return sorted((m.lab_id, m.day.isoformat()) for m in db.session.scalars(select(MissedDailyCheck)))


def test_closed_labs_are_not_missed_and_reopened_ones_are_again(app):
    college, other = make_college(), make_college()
    closed_a, closed_b = (backdate_lab(make_lab(college)) for _ in range(2))
    open_lab = backdate_lab(make_lab(other))
    for lab in (closed_a, closed_b, open_lab):
        make_user(Role.lab_officer, lab=lab)
    leader = make_user(Role.college_leader, college=college)
    batch, _ = closures.close_labs(leader, college_id=college.id, start=D("2026-01-18"), end=D("2026-01-31"),
                                   reason="寒假", now=datetime(2026, 1, 10))
    assert batch.lab_count == 2
    config = dict(current_app.config)
    run_nightly(D("2026-01-17"), config, send_mail=False)  # the first run processes only its day
    run_nightly(D("2026-01-20"), config, send_mail=False)
    days = ("2026-01-17", "2026-01-18", "2026-01-19", "2026-01-20")
    assert missed() == sorted([(open_lab.id, d) for d in days] + [(closed_a.id, "2026-01-17"),
                                                                  (closed_b.id, "2026-01-17")])
    # Reopened from 01-22: the 22nd on is owed a check again; the days already closed stay closed.
    closures.reopen(leader, batch.id, on_day=D("2026-01-22"), now=datetime(2026, 1, 21, 3))
    before = missed()
    run_nightly(D("2026-01-23"), config, send_mail=False)
    after = missed()
    new = sorted(set(after) - set(before))
    assert new == sorted([(open_lab.id, "2026-01-21"), (open_lab.id, "2026-01-22"), (open_lab.id, "2026-01-23")]
                         + [(lab.id, d) for lab in (closed_a, closed_b) for d in ("2026-01-22", "2026-01-23")])
    # Idempotent: flagging the same days again writes nothing.
    for day in ("2026-01-19", "2026-01-22"):
        assert flag_missed(D(day), datetime(2026, 1, 24), config)["missed"] == 0
    db.session.commit()
    assert missed() == after

"""The nightly job: missed daily checks, notices, overdue escalation; idempotent, catches up,
set-based, safe to start twice (art. 29)."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import event, func, select

from app.auth.models import Role
from app.extensions import db
from app.inspections.models import MissedDailyCheck
from app.jobs.models import NightlyRun
from app.jobs.services import days_to_process, run_nightly
from app.notifications.models import Notification, OutboxEmail
from app.org.models import LabClosure
from app.tickets.labels import event_note
from app.tickets.models import RectificationTicket, TicketEvent, TicketLevel
from tests.factories import (
    backdate_lab,
    make_college,
    make_daily_check,
    make_department,
    make_lab,
    make_ticket,
    make_user,
)

D = date.fromisoformat


def cfg(**kw):
    return {**current_app.config, **kw}


def snapshot():
    """Everything the job writes, without ids or wall-clock times."""
    db.session.expire_all()
    return {
        "missed": sorted((m.lab_id, m.day.isoformat()) for m in db.session.scalars(select(MissedDailyCheck))),
        "runs": sorted(r.day.isoformat() for r in db.session.scalars(select(NightlyRun))),
        "tickets": sorted(
            (t.id, t.level.value, t.deadline.isoformat(), t.escalated_at and t.escalated_at.isoformat(), t.version)
            for t in db.session.scalars(select(RectificationTicket))
        ),
        "escalations": sorted(
            (e.ticket_id, e.from_level, e.to_level, e.actor_id, event_note(e.note, e.note_key, e.note_params, "en"))
            for e in db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "escalate"))
        ),
        "notices": sorted(
            (n.user_id, n.kind, n.dedupe_key or "") for n in db.session.scalars(select(Notification))
        ),
        "emails": db.session.scalar(select(func.count()).select_from(OutboxEmail)),
    }


@pytest.fixture
def scene(app):
    """Across a month boundary in Asia/Shanghai: days 2026-10-30 .. 2026-11-02.

    lab_ok:     checked 10-30 (noon), 10-31 at 23:59 local (15:59 UTC), 11-01 at 00:00 local (16:00 UTC
                on 10-31), 11-02 -> never missed.
    lab_late:   its only check is at 00:00 local 11-01 (16:00 UTC 10-31) -> missed 10-30, 10-31, 11-02.
    lab_none:   never checked -> missed every day; the college hears of it on 11-01 (3 in a row).
    lab_closed: closed 10-31..11-01 -> missed 10-30 and 11-02 only.
    lab_off:    inactive -> never. lab_new: created on 11-01 -> missed only 11-02.
    """
    s = type("S", (), {})()
    s.college = make_college()
    s.dept = make_department("lab_management")
    s.lab_ok, s.lab_late, s.lab_none, s.lab_closed = (backdate_lab(make_lab(s.college)) for _ in range(4))
    s.lab_off = backdate_lab(make_lab(s.college, active=False))
    s.lab_new = backdate_lab(make_lab(s.college), datetime(2026, 11, 1, 3, 0))  # 11:00 local on 11-01
    s.officers = {lab.id: make_user(Role.lab_officer, lab=lab) for lab in
                  (s.lab_ok, s.lab_late, s.lab_none, s.lab_closed, s.lab_off, s.lab_new)}
    s.leader = make_user(Role.college_leader, college=s.college)
    s.head = make_user(Role.college_head, college=s.college, email="")
    s.admin = make_user(Role.school_admin)
    s.dept_officer = make_user(Role.dept_officer, department=s.dept)
    officer = s.officers[s.lab_ok.id]
    for when in (datetime(2026, 10, 30, 4), datetime(2026, 10, 31, 15, 59, 59), datetime(2026, 10, 31, 16, 0),
                 datetime(2026, 11, 2, 1)):
        make_daily_check(s.lab_ok, officer, when)
    make_daily_check(s.lab_late, s.officers[s.lab_late.id], datetime(2026, 10, 31, 16, 0))
    db.session.add(LabClosure(lab_id=s.lab_closed.id, start_date=D("2026-10-31"), end_date=D("2026-11-01")))
    db.session.commit()
    # A general ticket due 10-31 18:00 local: climbs to college in the run for 10-31 (deadline from its end).
    s.t_general = make_ticket(s.lab_ok, deadline=datetime(2026, 10, 31, 10, 0))
    # A major one starts at college; due 10-30 20:00 local (12:00 UTC) -> school in the run for 10-30,
    # then overdue at school (it cannot climb) -> the lab hears "overdue" once more.
    s.t_major = make_ticket(s.lab_none, severity="major", article="16(2)", deadline=datetime(2026, 10, 30, 12, 0))
    # A ticket whose fix is submitted does not climb: it waits for the reviewers.
    s.t_waiting = make_ticket(s.lab_ok, deadline=datetime(2026, 10, 29, 0, 0))
    s.t_waiting.state = "fix_submitted"
    db.session.commit()
    s.version = {t.id: t.version for t in (s.t_general, s.t_major, s.t_waiting)}
    return s


def expected(s):
    days = ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"]
    missed = sorted(
        [(s.lab_late.id, d) for d in ("2026-10-30", "2026-10-31", "2026-11-02")]
        + [(s.lab_none.id, d) for d in days]
        + [(s.lab_closed.id, d) for d in ("2026-10-30", "2026-11-02")]
        + [(s.lab_new.id, "2026-11-02")]
    )
    return missed, days


def check(s, snap):
    missed, days = expected(s)
    assert snap["missed"] == missed
    assert snap["runs"] == days
    end_1030, end_1031 = datetime(2026, 10, 30, 16), datetime(2026, 10, 31, 16)
    days_cfg = current_app.config["TICKET_DEADLINE_DAYS"]
    tickets = {t[0]: t for t in snap["tickets"]}
    assert tickets[s.t_general.id][1:] == (
        "college",
        (end_1031 + timedelta(days=days_cfg[("general", "college")])).isoformat(),
        end_1031.isoformat(),
        s.version[s.t_general.id] + 1,
    )
    assert tickets[s.t_major.id][1:] == (
        "school",
        (end_1030 + timedelta(days=days_cfg[("major", "school")])).isoformat(),
        end_1030.isoformat(),
        s.version[s.t_major.id] + 1,
    )
    assert tickets[s.t_waiting.id][1] == "lab"
    assert snap["escalations"] == sorted(
        [
            (
                s.t_general.id,
                "lab",
                "college",
                None,
                "Deadline passed: escalated by the nightly job (as of the end of 2026-10-31).",
            ),
            (s.t_major.id, "lab", "college", None, "Major hazard: reported to the college at once (art. 29)."),
            (
                s.t_major.id,
                "college",
                "school",
                None,
                "Deadline passed: escalated by the nightly job (as of the end of 2026-10-30).",
            ),
        ]
    )
    notes = snap["notices"]
    missed_notes = sorted((u, k) for u, kind, k in notes if kind == "missed_check")
    assert missed_notes == sorted(
        (s.officers[lab].id, f"missed:{lab}:{day}") for lab, day in missed
    )
    streak = sorted((u, k) for u, kind, k in notes if kind == "missed_streak")
    assert streak == sorted((u.id, f"missed_streak:{s.lab_none.id}:2026-11-01") for u in (s.leader, s.head))
    overdue = sorted(k for u, kind, k in notes if kind == "overdue")
    assert overdue == sorted([f"overdue:{s.t_general.id}:lab", f"overdue:{s.t_major.id}:college",
                              f"overdue:{s.t_major.id}:school"])
    assert (s.dept_officer.id, "routed", f"ticket:{s.t_major.id}:dept:school") in notes
    assert (s.admin.id, "escalated", f"ticket:{s.t_major.id}:level:school") in notes
    assert (s.leader.id, "escalated", f"ticket:{s.t_general.id}:level:college") in notes
    # One e-mail per notice to users with an address (the head has none).
    with_email = [n for n in notes if n[0] != s.head.id]
    assert snap["emails"] == len(with_email)


def test_one_run_per_night(scene):
    for d in ("2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"):
        run_nightly(D(d), cfg())
    check(scene, snapshot())


def test_twice_a_night_changes_nothing(scene):
    for d in ("2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"):
        first = run_nightly(D(d), cfg())
        again = run_nightly(D(d), cfg())
        assert first["days"] == [d] and again["days"] == [] and again["skipped"] == [d]
    check(scene, snapshot())


def test_catching_up_after_a_gap_equals_one_run_per_night(scene):
    run_nightly(D("2026-10-30"), cfg())
    summary = run_nightly(D("2026-11-02"), cfg())  # two nights without a run
    assert summary["days"] == ["2026-10-31", "2026-11-01", "2026-11-02"]
    check(scene, snapshot())
    before = snapshot()
    run_nightly(D("2026-11-02"), cfg())
    assert snapshot() == before


def test_default_day_is_the_one_that_just_ended_in_shanghai(app):
    from app.jobs.services import day_just_ended
    from app.timeutil import school_today

    assert day_just_ended(cfg()) == school_today("Asia/Shanghai") - timedelta(days=1)
    assert days_to_process(D("2026-11-02")) == [D("2026-11-02")]  # first run: no backfill from the dawn of time


def test_shanghai_midnight_is_1600_utc(app):
    """China has no DST: every school day is [16:00 UTC the day before, 16:00 UTC)."""
    college = make_college()
    lab_a, lab_b = backdate_lab(make_lab(college)), backdate_lab(make_lab(college))
    officer = make_user(Role.lab_officer, lab=lab_a)
    make_daily_check(lab_a, officer, datetime(2026, 3, 31, 16, 0))  # 00:00 local on 04-01
    make_daily_check(lab_b, officer, datetime(2026, 3, 31, 15, 59, 59))  # 23:59:59 local on 03-31
    run_nightly(D("2026-04-01"), cfg())
    missed = {(m.lab_id, m.day) for m in db.session.scalars(select(MissedDailyCheck))}
    assert missed == {(lab_b.id, D("2026-04-01"))}


def test_a_daylight_saving_zone_counts_its_25_hour_day(app):
    """Europe/Berlin leaves DST on 2026-10-25: that local day lasts 25 hours (22:00 UTC to 23:00 UTC)."""
    berlin = cfg(SCHOOL_TIMEZONE="Europe/Berlin")
    college = make_college()
    early, late, before, after = (backdate_lab(make_lab(college)) for _ in range(4))
    officer = make_user(Role.lab_officer, lab=early)
    make_daily_check(early, officer, datetime(2026, 10, 24, 22, 30))  # 00:30 CEST on 10-25
    make_daily_check(late, officer, datetime(2026, 10, 25, 22, 30))  # 23:30 CET on 10-25 (the extra hour)
    make_daily_check(before, officer, datetime(2026, 10, 24, 21, 59))  # 23:59 CEST on 10-24
    make_daily_check(after, officer, datetime(2026, 10, 25, 23, 0))  # 00:00 CET on 10-26
    run_nightly(D("2026-10-24"), berlin)
    summary = run_nightly(D("2026-10-26"), berlin)
    assert summary["days"] == ["2026-10-25", "2026-10-26"]
    missed = {(m.lab_id, m.day.isoformat()) for m in db.session.scalars(select(MissedDailyCheck))}
    assert missed == {
        (early.id, "2026-10-24"), (late.id, "2026-10-24"), (after.id, "2026-10-24"),
        (before.id, "2026-10-25"), (after.id, "2026-10-25"),
        (early.id, "2026-10-26"), (late.id, "2026-10-26"), (before.id, "2026-10-26"),
    }


def _bulk_labs(college, n):
    """n backdated labs, each with an officer and an overdue ticket (bulk, for the statement count)."""
    from app.auth.models import RoleAssignment, User
    from app.org.models import Lab
    from app.tickets.models import RectificationTicket as T
    from app.tickets.models import TicketState

    labs = [Lab(code=f"B{college.id}-{i}", name=f"实验室{i}", college_id=college.id, category="chemistry",
                hazard_tags=[], created_at=datetime(2020, 1, 1)) for i in range(n)]
    db.session.add_all(labs)
    db.session.flush()
    for i, lab in enumerate(labs):
        u = User(username=f"bulk{college.id}-{i}", name=f"u{i}", email=f"b{i}@x.cn", password_hash="x")
        u.roles.append(RoleAssignment(role=Role.lab_officer, lab_id=lab.id))
        db.session.add(u)
        db.session.add(T(lab_id=lab.id, article="23", title="灭火器", severity="general", state=TicketState.open,
                         level=TicketLevel.lab, deadline=datetime(2026, 1, 1), created_at=datetime(2025, 12, 1),
                         updated_at=datetime(2025, 12, 1)))
    db.session.commit()


def _count_statements(day, config):
    count = {"n": 0}

    def listener(conn, cursor, statement, parameters, context, executemany):
        count["n"] += 1

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        summary = run_nightly(day, config, send_mail=False)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return count["n"], summary


def test_the_statement_count_does_not_grow_with_the_labs(app):
    """Set-based: the same number of SQL statements for 10 labs as for 100."""
    small, large = make_college(), make_college()
    leader = make_user(Role.college_leader, college=small)
    make_user(Role.college_leader, college=large)
    _bulk_labs(small, 10)
    n_small, s_small = _count_statements(D("2026-03-01"), cfg())
    _bulk_labs(large, 90)  # now 100 labs, 100 overdue tickets
    n_large, s_large = _count_statements(D("2026-03-02"), cfg())
    assert s_small["missed"] == 10 and s_large["missed"] == 100
    assert s_small["escalated"] == 10 and s_large["escalated"] == 90  # the first ten climbed the night before
    assert n_small == n_large
    # And a three-night catch-up costs three nights' statements (plus the one look-up of the last run).
    n_three, s_three = _count_statements(D("2026-03-05"), cfg())
    assert s_three["days"] == ["2026-03-03", "2026-03-04", "2026-03-05"]
    assert n_three == 3 * (n_large - 1) + 1
    assert leader.id  # the small college's leader got the streak notice on 03-03
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == leader.id, Notification.kind == "missed_streak")) == 10


def test_two_copies_at_once_double_nothing(app, scene):
    """Two nightly jobs started together (two connections): each day is processed exactly once."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(run_nightly(D("2026-10-30"), current_app.config, send_mail=False))
                barrier.wait(timeout=10)
                results.append(run_nightly(D("2026-11-02"), current_app.config, send_mail=False))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    processed = sorted(d for r in results for d in r["days"])
    assert processed == ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"]
    check(scene, snapshot())


def test_a_lab_created_at_midnight_is_checked_that_day(app):
    """A lab that exists when the day begins (created at 00:00:00 local) owes that day's check."""
    college = make_college()
    at_midnight = backdate_lab(make_lab(college), datetime(2026, 10, 31, 16, 0))  # 00:00 local 11-01
    backdate_lab(make_lab(college), datetime(2026, 10, 31, 16, 0, 0, 1))  # a microsecond late: owes nothing
    run_nightly(D("2026-11-01"), cfg(), send_mail=False)
    missed = {(m.lab_id, m.day) for m in db.session.scalars(select(MissedDailyCheck))}
    assert missed == {(at_midnight.id, D("2026-11-01"))}


@pytest.mark.parametrize("offset", [0, 1, 6])
def test_a_day_that_has_not_ended_is_refused(app, offset):
    """Today (still running) and future days are refused by the service itself, with nothing written."""
    from app.errors import InvalidInput
    from app.jobs.services import process_day
    from app.timeutil import school_today

    college = make_college()
    lab = backdate_lab(make_lab(college))
    make_user(Role.lab_officer, lab=lab)
    make_ticket(lab, deadline=datetime(2020, 1, 1))
    day = school_today("Asia/Shanghai") + timedelta(days=offset)
    notices_before = db.session.scalar(select(func.count()).select_from(Notification))
    with pytest.raises(InvalidInput, match="has not ended"):
        run_nightly(day, cfg(), send_mail=False)
    with pytest.raises(InvalidInput, match="has not ended"):
        process_day(day, cfg())
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(NightlyRun)) == 0
    assert db.session.scalar(select(func.count()).select_from(MissedDailyCheck)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == notices_before
    assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "escalate")) == 0


def test_the_cli_refuses_today_with_a_clear_message(app, runner):
    from app.timeutil import school_today

    today = school_today("Asia/Shanghai")
    result = runner.invoke(args=["nightly", "--date", today.isoformat(), "--no-mail"])
    assert result.exit_code != 0
    assert "has not ended" in result.output and today.isoformat() in result.output
    assert db.session.scalar(select(func.count()).select_from(NightlyRun)) == 0
    ok = runner.invoke(args=["nightly", "--date", (today - timedelta(days=1)).isoformat(), "--no-mail"])
    assert ok.exit_code == 0, ok.output


def test_a_day_is_judged_by_the_labs_active_on_it(app):
    """Catching up after a gap: a lab deactivated since is still flagged for a day it was active on, a
    lab activated since is not flagged for a day it was not (the monthly summary counts the same
    lab-days as open)."""
    college = make_college()
    deactivated_since = backdate_lab(make_lab(college))
    activated_since = backdate_lab(make_lab(college, active=False))
    deactivated_since.active = False  # today, after 2026-11-01
    activated_since.active = True
    db.session.commit()
    run_nightly(D("2026-11-01"), cfg(), send_mail=False)
    flagged = set(db.session.scalars(select(MissedDailyCheck.lab_id).where(MissedDailyCheck.day == D("2026-11-01"))))
    assert flagged == {deactivated_since.id}

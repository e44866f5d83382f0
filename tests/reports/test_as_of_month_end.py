"""A month's figures are taken as of its end and, once final, never change (art. 30 keeps the history).

Each test computes a month, changes the world afterwards (escalations giving new levels and deadlines,
deactivations, late syncs, tickets closed later), computes the month again, and compares.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.jobs.services import process_day
from app.reports.services import monthly_summary
from app.tickets.models import RectificationTicket, TicketState
from app.timeutil import utcnow
from tests.factories import make_college, make_lab, make_user
from tests.factories.reports import add_inspection, add_missed, add_ticket, local, make_checklist_version

from . import scenario
from .scenario import NOW, OCTOBER

NOVEMBER = date(2026, 11, 1)


def everything(s) -> dict:
    """Every figure of a summary, the tables included, as plain data."""
    def figs(row):
        return {k: getattr(row.current, k) for k in scenario.fig()} | {
            "prev": {k: getattr(row.previous, k) for k in scenario.fig()}}

    return {
        "total": figs(s.total),
        "colleges": {r.code: figs(r) for r in s.colleges},
        "top_missed": [asdict(m) for m in s.top_missed],
        "oldest_open": [asdict(t) for t in s.oldest_open],
    }


def test_a_final_month_reads_the_same_after_the_world_changed(app):
    from app.auth.models import Role

    labs = scenario.build()
    a1, b1 = labs["a1"], labs["b1"]
    # T9: a major hazard whose deadline passed at noon on Oct 31, still open at the month's end.
    t9 = add_ticket(b1, "16(2)", "major", local(2026, 10, 30, 9), local(2026, 10, 31, 12))
    db.session.commit()
    before = monthly_summary(OCTOBER, None, app.config, now=NOW)
    assert before.total.current.overdue == 3  # T3 (deadline Oct 27), T7 (Aug 22), T9 (Oct 31 noon)
    t9_then = next(t for t in before.oldest_open if t.ticket_id == t9.id)
    assert (t9_then.level, t9_then.deadline) == ("lab", local(2026, 10, 31, 12))

    # The world moves on. The nightly run for Oct 31 escalates T9 and T3 (new levels, new deadlines)
    # and flags October 31 misses late; lab A1 is deactivated; a daily check for B1's Oct 25 and
    # one for A1's Oct 6 sync weeks late; T3 is closed; a college check of B1 arrives late too.
    process_day(date(2026, 10, 31), app.config)
    db.session.expire_all()
    t9 = db.session.get(RectificationTicket, t9.id)
    assert t9.level.value == "college" and t9.deadline > local(2026, 11, 1, 0)
    inspector = make_user(Role.inspector)
    version = make_checklist_version()
    for lab, when, level in ((b1, local(2026, 10, 25, 9), "daily"), (labs["a1"], local(2026, 10, 6, 9), "daily"),
                             (b1, local(2026, 10, 26, 9), "college")):
        add_inspection(lab, level, when, inspector=inspector, version=version).received_at = utcnow()
    t3 = db.session.scalars(select(RectificationTicket).where(RectificationTicket.article == "21(1)")).one()
    t3.state, t3.closed_at = TicketState.closed, utcnow()
    a1.active = False
    db.session.commit()

    after = monthly_summary(OCTOBER, None, app.config, now=NOW + timedelta(days=365))
    assert everything(after) == everything(before)
    assert after.total.current.overdue == 3
    assert after.final


def test_a_lab_deactivated_in_december_leaves_november_as_it_was(app):
    chem = make_college(code="CHEM", name="化学学院")
    busy, idle = make_lab(chem, code="CH1"), make_lab(chem, code="CH2")
    for lab in (busy, idle):
        lab.created_at = local(2026, 1, 1)
    inspector = make_user_inspector()
    version = make_checklist_version()
    for d in range(1, 31):
        add_inspection(busy, "daily", local(2026, 11, d, 9), inspector=inspector, version=version)
    for d in range(1, 11):
        add_inspection(idle, "daily", local(2026, 11, d, 9), inspector=inspector, version=version)
    add_missed(idle, *(date(2026, 11, d) for d in range(11, 31)))
    add_ticket(idle, "23", "general", local(2026, 11, 5), local(2026, 11, 12), closed_at=local(2026, 11, 8))
    db.session.commit()
    now = datetime(2026, 12, 20, 4)  # November is final (Dec 8 onwards)
    before = monthly_summary(NOVEMBER, None, app.config, now=now)
    f = before.total.current
    assert (f.labs, f.open_days, f.checked_days, f.missed_checks, f.hazards) == (2, 60, 40, 20, 1)

    idle.active = False  # deactivated in December (now)
    db.session.commit()
    after = monthly_summary(NOVEMBER, None, app.config, now=now)
    assert everything(after) == everything(before)
    assert after.total.current.compliance_pct == 66.7


def test_a_lab_not_active_in_a_month_is_in_none_of_its_figures(app):
    """Labs, open days, compliance, inspections, hazards, missed checks and "most missed" all use the
    same labs: the ones active in the month."""
    from app.org.models import LabActivePeriod

    college = make_college(code="PHY")
    kept, gone = make_lab(college, code="P1"), make_lab(college, code="P2")
    for lab in (kept, gone):
        lab.created_at = local(2026, 1, 1)
    # P2 was deactivated on the evening of Sep 30 (its period dated so) and has October rows anyway.
    gone.active = False
    db.session.commit()
    period = db.session.scalars(select(LabActivePeriod).where(LabActivePeriod.lab_id == gone.id)).one()
    period.end_at = local(2026, 9, 30, 17)
    inspector = make_user_inspector()
    version = make_checklist_version()
    for d in range(1, 32):
        add_inspection(kept, "daily", local(2026, 10, d, 9), inspector=inspector, version=version)
    add_inspection(gone, "daily", local(2026, 10, 2, 9), inspector=inspector, version=version)
    add_inspection(gone, "college", local(2026, 10, 3, 9), inspector=inspector, version=version)
    add_missed(gone, *(date(2026, 10, d) for d in range(3, 32)))
    add_ticket(gone, "16(1)", "major", local(2026, 10, 4), local(2026, 10, 6))
    db.session.commit()

    s = monthly_summary(OCTOBER, None, app.config, now=NOW)
    f = s.total.current
    assert (f.labs, f.open_days, f.checked_days) == (1, 31, 31)
    assert f.inspections == {"daily": 31, "college": 0, "school": 0, "special": 0}
    assert (f.hazards, f.still_open, f.overdue, f.missed_checks) == (0, 0, 0, 0)
    assert s.top_missed == [] and s.oldest_open == []
    # September: P2 was active until the evening of Sep 30, so Sep 30 is not a whole open day.
    p = s.total.previous
    assert (p.labs, p.open_days) == (2, 30 + 29)


def test_a_lab_day_is_never_both_done_and_missed(app):
    """Flagged by the nightly job, then the day's check arrived within LATE_SYNC_DAYS and cleared the
    flag: done. A check that arrived after the bound is stored but the flag stands: missed, not done
    too (as on the lab's own page). A flag and no check: missed."""
    from app.inspections.daily_checks import clear_missed_check

    college = make_college()
    lab = make_lab(college)
    lab.created_at = local(2026, 1, 1)
    inspector = make_user_inspector()
    version = make_checklist_version()
    add_missed(lab, date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7))
    db.session.flush()
    for day, received in ((5, local(2026, 10, 8)), (6, local(2026, 11, 3))):  # in time; after the bound
        check = add_inspection(lab, "daily", local(2026, 10, day, 9), inspector=inspector, version=version)
        check.received_at = received
        db.session.flush()
        clear_missed_check(lab_id=lab.id, college_id=college.id, lab_name=lab.name, inspection_id=check.id,
                           finished_at=check.finished_at, received_at=received, config=app.config)
    db.session.commit()
    s = monthly_summary(OCTOBER, None, app.config, now=NOW)
    f = s.total.current
    assert (f.open_days, f.checked_days, f.missed_checks) == (31, 1, 2)
    assert [m.missed for m in s.top_missed] == [2]


def test_until_the_late_sync_bound_the_month_may_still_change(app, client):
    from app.auth.models import Role
    from tests.factories import login

    scenario.build()
    within = datetime(2026, 11, 5, 4)  # Nov 5: October is over, not final until Nov 8
    s = monthly_summary(OCTOBER, None, app.config, now=within, late_sync_days=7)
    assert s.complete and not s.final and s.final_from == date(2026, 11, 8)
    assert monthly_summary(OCTOBER, None, app.config, now=datetime(2026, 11, 8, 4), late_sync_days=7).final
    login(client, make_user(Role.school_admin))
    html = client.get("/reports/monthly?month=2026-10&lang=en").get_data(as_text=True)
    assert "may change until" not in html  # today (after Nov 8) October is final
    app.config["LATE_SYNC_DAYS"] = 4000
    html = client.get("/reports/monthly?month=2026-10&lang=en").get_data(as_text=True)
    assert "these figures may change until" in html


def make_user_inspector():
    from app.auth.models import Role

    return make_user(Role.inspector)

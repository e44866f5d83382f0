"""A hand-made October 2026 (and September) where every figure of the summary is known.

College CA: lab A1 (closed Oct 10-19), lab A2 (created Oct 16), lab A3 (never active, yet has activity:
it counts in no figure). College CB: lab B1. College CC: no labs. "Now" is 2026-11-25, so October is
complete and, past the 7-day late-sync bound, final.
A lab-day is open when the lab was active all day (A2's first day, Oct 16, is not).
Times are school-local (Asia/Shanghai, UTC+8) unless named UTC.
"""
from __future__ import annotations

from datetime import date, datetime

from app.auth.models import Role
from app.extensions import db
from tests.factories import make_college, make_lab, make_user
from tests.factories.reports import (
    add_closure,
    add_event,
    add_inspection,
    add_missed,
    add_ticket,
    local,
    make_checklist_version,
)

NOW = datetime(2026, 11, 25, 2, 0)  # naive UTC
OCTOBER = date(2026, 10, 1)


def build():
    ca = make_college(code="CA", name="化学与材料工程学院")
    cb = make_college(code="CB", name="生命科学学院")
    cc = make_college(code="CC", name="外国语学院")
    a1 = make_lab(ca, code="A1", name="有机化学实验室")
    a2 = make_lab(ca, code="A2", name="分析化学实验室")
    a3 = make_lab(ca, code="A3", name="旧实验室", active=False)
    b1 = make_lab(cb, code="B1", name="微生物实验室", category="biology", hazard_tags=["pathogens"])
    a1.created_at = a3.created_at = b1.created_at = local(2026, 1, 1)
    a2.created_at = local(2026, 10, 16, 12)
    officer = make_user(Role.inspector)
    v = make_checklist_version()

    def insp(lab, level, when):
        add_inspection(lab, level, when, inspector=officer, version=v)

    # A1: closed Oct 10-19 -> 21 open days; checked Oct 1 (00:30, i.e. Sep 30 UTC), 2 (twice), 3, 4, 5, 31.
    add_closure(a1, date(2026, 10, 10), date(2026, 10, 19))
    insp(a1, "daily", local(2026, 10, 1, 0, 30))
    insp(a1, "daily", local(2026, 10, 2, 9))
    insp(a1, "daily", local(2026, 10, 2, 17))
    for d in (3, 4, 5):
        insp(a1, "daily", local(2026, 10, d))
    insp(a1, "daily", local(2026, 10, 12))  # on a closed day: counted as done, not as an open day
    insp(a1, "daily", local(2026, 10, 31, 23, 50))
    insp(a1, "college", local(2026, 10, 20))
    insp(a1, "special", local(2026, 10, 21))
    # A1 in September: Sep 15 and Sep 30 23:30 (Sep 30 UTC 15:30); a school check on Sep 10.
    insp(a1, "daily", local(2026, 9, 15))
    insp(a1, "daily", local(2026, 9, 30, 23, 30))
    insp(a1, "school", local(2026, 9, 10))
    # A2: exists from Oct 16 noon (open days Oct 17-31); checked every evening Oct 16-31.
    for d in range(16, 32):
        insp(a2, "daily", local(2026, 10, d, 18))
    # A3 (never active): three daily checks in October count nowhere.
    for d in (1, 2, 3):
        insp(a3, "daily", local(2026, 10, d))
    # B1: daily Oct 1-20, a college check twice, a school check Oct 8; September all 30 days + 1 college.
    for d in range(1, 21):
        insp(b1, "daily", local(2026, 10, d))
    insp(b1, "college", local(2026, 10, 5))
    insp(b1, "college", local(2026, 10, 25))
    insp(b1, "school", local(2026, 10, 8))
    for d in range(1, 31):
        insp(b1, "daily", local(2026, 9, d))
    insp(b1, "college", local(2026, 9, 20))

    # Tickets.
    add_ticket(a1, "16(2)", "major", local(2026, 9, 25), local(2026, 9, 27), closed_at=local(2026, 10, 3))  # T1
    add_ticket(a1, "23", "general", local(2026, 10, 5), local(2026, 10, 12), closed_at=local(2026, 10, 8))  # T2
    t3 = add_ticket(a1, "21(1)", "general", local(2026, 10, 20), local(2026, 10, 27), level="college")  # T3
    add_event(t3, "escalated", local(2026, 10, 28), "lab", "college")
    add_ticket(a3, "16(1)", "major", local(2026, 10, 30), local(2026, 11, 1))  # T4
    add_ticket(b1, "23", "general", local(2026, 10, 10), local(2026, 10, 17), closed_at=local(2026, 10, 15))  # T5
    t6 = add_ticket(b1, "24(6)", "general", local(2026, 10, 31, 20), local(2026, 11, 7),
                    closed_at=local(2026, 11, 2))  # T6
    add_event(t6, "escalated", local(2026, 11, 1), "lab", "college")  # November: not October's
    t7 = add_ticket(b1, "22", "major", local(2026, 8, 20), local(2026, 8, 22), level="school")  # T7
    add_event(t7, "nightly", local(2026, 9, 3), "lab", "college")  # a level change counts
    add_event(t7, "escalate", local(2026, 10, 2), "college", "school")
    add_ticket(b1, "23", "general", local(2026, 10, 1, 0, 10), local(2026, 10, 8),
               closed_at=local(2026, 10, 1, 6, 10))  # T8: 0.25 days

    # Missed daily checks the nightly job flagged.
    add_missed(a1, *(date(2026, 10, d) for d in (6, 7, 8, 9, 20)))
    # A2's flag of Oct 17 stands although a check of that day is stored: it synced after LATE_SYNC_DAYS
    # (a check in time clears the flag). The day counts as missed, not as checked too.
    add_missed(a2, date(2026, 10, 17))
    add_missed(b1, *(date(2026, 10, d) for d in range(21, 32)))
    add_missed(a1, *(date(2026, 9, d) for d in (1, 2, 3)))
    db.session.commit()
    return {"ca": ca, "cb": cb, "cc": cc, "a1": a1, "a2": a2, "a3": a3, "b1": b1}


def fig(
    labs=0,
    open_days=0,
    checked_days=0,
    daily=0,
    college=0,
    school=0,
    special=0,
    college_cov=0,
    school_cov=0,
    hazards=0,
    general=0,
    major=0,
    articles=None,
    major_articles=None,
    on_time=0,
    late=0,
    overdue=0,
    escalated=0,
    still_open=0,
    median=None,
    missed=0,
):
    return {
        "labs": labs, "open_days": open_days, "checked_days": checked_days,
        "inspections": {"daily": daily, "college": college, "school": school, "special": special},
        "labs_with_college_check": college_cov, "labs_with_school_check_semester": school_cov,
        "hazards": hazards, "hazards_by_severity": {"general": general, "major": major},
        "hazards_by_article": articles or {}, "major_by_article": major_articles or {},
        "rectified_on_time": on_time, "rectified_late": late,
        "overdue": overdue, "escalated": escalated, "still_open": still_open,
        "median_days_to_rectify": median, "missed_checks": missed,
    }


EXPECTED = {
    "CA": {
        "current": fig(
            labs=2,
            open_days=36,
            checked_days=20,
            daily=24,
            college=1,
            special=1,
            college_cov=1,
            school_cov=1,
            hazards=2,
            general=2,
            articles={"21": 1, "23": 1},
            on_time=1,
            late=1,
            overdue=1,
            escalated=1,
            still_open=1,
            median=5.5,
            missed=6,
        ),
        "previous": fig(
            labs=1,
            open_days=30,
            checked_days=2,
            daily=2,
            school=1,
            school_cov=1,
            hazards=1,
            major=1,
            articles={"16": 1},
            major_articles={"16": 1},
            overdue=1,
            still_open=1,
            missed=3,
        ),
    },
    "CB": {
        "current": fig(
            labs=1,
            open_days=31,
            checked_days=20,
            daily=20,
            college=2,
            school=1,
            college_cov=1,
            school_cov=1,
            hazards=3,
            general=3,
            articles={"23": 2, "24": 1},
            on_time=2,
            overdue=1,
            escalated=1,
            still_open=2,
            median=2.6,
            missed=11,
        ),
        "previous": fig(
            labs=1,
            open_days=30,
            checked_days=30,
            daily=30,
            college=1,
            college_cov=1,
            overdue=1,
            escalated=1,
            still_open=1,
        ),
    },
    "CC": {"current": fig(), "previous": fig()},
    "school": {
        "current": fig(
            labs=3,
            open_days=67,
            checked_days=40,
            daily=44,
            college=3,
            school=1,
            special=1,
            college_cov=2,
            school_cov=2,
            hazards=5,
            general=5,
            articles={"21": 1, "23": 3, "24": 1},
            on_time=3,
            late=1,
            overdue=2,
            escalated=2,
            still_open=3,
            median=4.0,
            missed=17,
        ),
        "previous": fig(
            labs=2,
            open_days=60,
            checked_days=32,
            daily=32,
            college=1,
            school=1,
            college_cov=1,
            school_cov=1,
            hazards=1,
            major=1,
            articles={"16": 1},
            major_articles={"16": 1},
            overdue=2,
            escalated=1,
            still_open=2,
            missed=3,
        ),
    },
}

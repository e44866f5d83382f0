"""The monthly summary over hand-made data: every cell checked (art. 27, 28, 29)."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import event

from app.errors import InvalidInput
from app.extensions import db
from app.reports import services
from app.reports.services import monthly_summary

from . import scenario
from .scenario import EXPECTED, NOW, OCTOBER


def as_dict(f):
    return {k: getattr(f, k) for k in scenario.fig()}


def test_every_cell_school_wide(app):
    scenario.build()
    s = monthly_summary(OCTOBER, None, app.config, now=NOW)
    assert s.month == date(2026, 10, 1) and s.previous_month == date(2026, 9, 1)
    assert s.complete is True and s.final is True
    assert s.semester_start == date(2026, 9, 1)
    assert [r.code for r in s.colleges] == ["CA", "CB", "CC"]
    for row in s.colleges:
        assert as_dict(row.current) == EXPECTED[row.code]["current"], row.code
        assert as_dict(row.previous) == EXPECTED[row.code]["previous"], row.code
    assert as_dict(s.total.current) == EXPECTED["school"]["current"]
    assert as_dict(s.total.previous) == EXPECTED["school"]["previous"]
    # Ratios derive from the counts above.
    assert s.total.current.compliance == pytest.approx(40 / 67)
    assert s.total.current.college_check_coverage == pytest.approx(2 / 3)
    assert s.colleges[2].current.compliance is None
    assert s.articles == ["16", "21", "23", "24"]

    assert [(m.lab_code, m.college_code, m.missed) for m in s.top_missed] == [("B1", "CB", 11), ("A1", "CA", 5),
                                                                             ("A2", "CA", 1)]
    oldest = [(t.lab_code, t.article, t.severity, t.level) for t in s.oldest_open]
    assert oldest == [("B1", "22", "major", "school"), ("A1", "21(1)", "general", "college"),
                      ("B1", "24(6)", "general", "lab")]
    # T7: created Aug 20 10:00 local; the month ends Oct 31 24:00 local -> 72 days 14 hours.
    assert s.oldest_open[0].age_days == 72.6


def test_one_college_sees_only_itself(app):
    labs = scenario.build()
    s = monthly_summary(OCTOBER, labs["ca"].id, app.config, now=NOW)
    assert [r.code for r in s.colleges] == ["CA"]
    assert as_dict(s.total.current) == EXPECTED["CA"]["current"]
    assert as_dict(s.total.previous) == EXPECTED["CA"]["previous"]
    assert [m.lab_code for m in s.top_missed] == ["A1", "A2"]
    assert [t.lab_code for t in s.oldest_open] == ["A1"]


def test_current_month_counts_only_days_already_over(app):
    labs = scenario.build()
    # Oct 5, 12:00 local: Oct 1-4 are over; A1 checked all four; B1 too. A2 does not exist yet.
    now = datetime(2026, 10, 5, 4, 0)
    s = monthly_summary(OCTOBER, None, app.config, now=now)
    assert s.complete is False
    ca = s.colleges[0].current
    assert ca.labs == 1  # A2 is created on Oct 16
    assert (ca.open_days, ca.checked_days) == (4, 4)
    # Snapshot at "now": T1 (closed Oct 3) is no longer open; T2 (created Oct 5 10:00 local) is.
    assert ca.still_open == 1
    assert [t.lab_code for t in s.oldest_open if t.college_code == "CA"] == ["A1"]
    assert labs["a1"].id in {t.lab_id for t in s.oldest_open}


def test_future_month_is_refused(app):
    with pytest.raises(InvalidInput):
        monthly_summary(date(2027, 1, 1), None, app.config, now=NOW)


def test_parse_month():
    assert services.parse_month("2026-10") == date(2026, 10, 1)
    for bad in ("2026-13", "10/2026", "", None, "2026-1x"):
        with pytest.raises(InvalidInput):
            services.parse_month(bad)


def test_semester_start():
    cfg = {}
    assert services.semester_start(date(2026, 10, 1), cfg) == date(2026, 9, 1)
    assert services.semester_start(date(2026, 2, 1), cfg) == date(2025, 9, 1)
    assert services.semester_start(date(2026, 3, 1), cfg) == date(2026, 3, 1)


def _count_statements(fn):
    n = 0

    def count(*args, **kwargs):
        nonlocal n
        n += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return n, result


def _grow(n_colleges: int, labs_per_college: int):
    from tests.factories import make_college, make_lab
    from tests.factories.reports import add_missed, add_ticket, local

    for _ in range(n_colleges):
        c = make_college()
        for _ in range(labs_per_college):
            lab = make_lab(c)
            lab.created_at = local(2026, 1, 1)
            add_ticket(lab, "23", "general", local(2026, 10, 3), local(2026, 10, 9), closed_at=local(2026, 10, 4))
            add_missed(lab, date(2026, 10, 2))
    db.session.commit()


def test_statement_count_does_not_grow_with_colleges_or_labs(app):
    _grow(2, 1)
    small, s_small = _count_statements(lambda: monthly_summary(OCTOBER, None, app.config, now=NOW))
    _grow(18, 3)
    large, s_large = _count_statements(
        lambda: monthly_summary(OCTOBER, None, app.config, now=NOW, count_statements=True))
    assert len(s_small.colleges) == 2 and len(s_large.colleges) == 20
    assert s_large.total.current.hazards == 2 + 54
    assert small == large == s_large.statements
    college_id = s_large.colleges[5].college_id
    one, _ = _count_statements(lambda: monthly_summary(OCTOBER, college_id, app.config, now=NOW))
    assert one == large

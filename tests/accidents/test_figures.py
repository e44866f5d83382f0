"""Art. 5's veto per college and year, and the counts by grade the monthly summary and the college pages show:
a fixed number of statements whatever the number of colleges and accidents."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.accidents import services
from app.auth.models import Role
from app.reports.services import monthly_summary
from tests.factories import login, make_college, make_lab, make_user
from tests.factories.accidents import make_accident
from tests.reports.test_monthly_summary import _count_statements as _count

from .helpers import world


def _grow(admin, n: int):
    for _ in range(n):
        lab = make_lab(make_college())
        make_accident(admin, lab, occurred_at="2026-10-10T10:00:00+08:00", light_injuries=0)


def test_veto_and_counts_take_one_statement_each_whatever_the_colleges(app):
    admin = make_user(Role.school_admin)
    tz = current_app.config["SCHOOL_TIMEZONE"]
    start, end = services.year_bounds(2026, tz)
    _grow(admin, 2)
    small = _count(lambda: services.vetoed_colleges(2026, tz)), _count(lambda: services.counts_by_grade(start, end))
    _grow(admin, 12)
    large = _count(lambda: services.vetoed_colleges(2026, tz)), _count(lambda: services.counts_by_grade(start, end))
    assert [s[0] for s in small] == [s[0] for s in large] == [1, 1]
    assert len(large[0][1]) == 14 and all(n == 1 for n in large[0][1].values())
    assert services.total_by_grade(large[1][1]) == {"I": 0, "II": 0, "III": 0, "IV": 14}


def test_the_veto_is_per_school_year_and_the_summary_counts_by_grade(app, client):
    w = world()
    make_accident(w.officer, w.lab, occurred_at="2025-12-31T23:30:00+08:00")  # school time: last year
    assert services.vetoed_colleges(2025, "Asia/Shanghai") == {w.college.id: 1}
    assert services.vetoed_colleges(2026, "Asia/Shanghai") == {}
    a = make_accident(w.officer, w.lab, occurred_at="2026-10-10T10:00:00+08:00", serious_injuries=1)
    make_accident(w.officer, w.lab, occurred_at="2026-10-11T10:00:00+08:00", light_injuries=0)
    services.confirm_grade(w.admin, a, a.proposed_grade, "")
    assert services.is_vetoed(w.college.id, 2026, "Asia/Shanghai")
    assert not services.is_vetoed(w.other_college.id, 2026, "Asia/Shanghai")
    s = monthly_summary(datetime(2026, 10, 1).date(), None, current_app.config, now=datetime(2026, 12, 1))
    assert s.accidents == {w.college.id: {"I": 0, "II": 1, "III": 0, "IV": 1}}
    assert s.accident_veto == {w.college.id: 2}
    # September's summary, as of its end, knows nothing of October's accidents.
    s = monthly_summary(datetime(2026, 9, 1).date(), None, current_app.config, now=datetime(2026, 12, 1))
    assert s.accidents == {} and s.accident_veto == {}
    login(client, w.leader)
    assert client.get(f"/api/colleges/{w.college.id}/accident-veto?year=2026").get_json() == {
        "college_id": w.college.id, "year": 2026, "vetoed": True, "accidents": 2}
    page = client.get(f"/colleges/{w.college.id}/reports/monthly?month=2026-10").get_data(as_text=True)
    assert 'id="accidents"' in page

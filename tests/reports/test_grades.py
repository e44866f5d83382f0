"""The monthly summary's grade distribution: college, school and special inspections by grade, per
college, month over month (daily checks and ungraded inspections left out), in the same statements."""
from __future__ import annotations

from app.auth.models import Role
from app.extensions import db
from app.reports.services import monthly_summary
from tests.factories import login, make_college, make_lab, make_user
from tests.factories.reports import add_inspection, local, make_checklist_version

from .scenario import NOW, OCTOBER


def _world():
    version = make_checklist_version()
    inspector = make_user(Role.inspector)
    ca, cb = make_college(), make_college()
    a1, b1 = make_lab(ca), make_lab(cb)
    for lab in (a1, b1):
        lab.created_at = local(2026, 1, 1)

    def graded(lab, level, when, grade):
        add_inspection(lab, level, when, inspector=inspector, version=version).grade = grade

    for level, grade in (("college", "A"), ("college", "A"), ("school", "B"), ("special", "D"),
                         ("daily", "D"), ("college", None)):  # daily: not counted; None: no grade
        graded(a1, level, local(2026, 10, 12), grade)
    graded(a1, "college", local(2026, 9, 12), "C")  # September
    graded(b1, "college", local(2026, 10, 3), "D")
    db.session.commit()
    return ca, cb


def test_grade_distribution_per_college_month_over_month(app):
    ca, cb = _world()
    s = monthly_summary(OCTOBER, None, app.config, now=NOW)
    rows = {r.college_id: r for r in s.colleges}
    assert rows[ca.id].current.grades == {"A": 2, "B": 1, "C": 0, "D": 1}
    assert rows[ca.id].previous.grades == {"A": 0, "B": 0, "C": 1, "D": 0}
    assert rows[cb.id].current.grades == {"A": 0, "B": 0, "C": 0, "D": 1}
    assert s.total.current.grades == {"A": 2, "B": 1, "C": 0, "D": 2}
    # The level counts are unchanged by grouping on the grade as well.
    assert rows[ca.id].current.inspections == {"daily": 1, "college": 3, "school": 1, "special": 1}
    one = monthly_summary(OCTOBER, cb.id, app.config, now=NOW)
    assert one.total.current.grades == {"A": 0, "B": 0, "C": 0, "D": 1}


def test_the_page_and_the_csv_show_the_grades(app, client):
    ca, _cb = _world()
    login(client, make_user(Role.school_admin))
    page = client.get("/reports/monthly?month=2026-10&lang=en").get_data(as_text=True)
    assert "Inspection grades (college, school and special checks)" in page
    assert "B: pass after rectification" in page
    csv = client.get(f"/reports/monthly.csv?month=2026-10&college_id={ca.id}&lang=en").get_data(as_text=True)
    assert "A: pass" in csv and "D: fail" in csv
    zh = client.get("/reports/monthly?month=2026-10").get_data(as_text=True)
    assert "检查评级" in zh and "整改后合格" in zh

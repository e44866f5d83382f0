"""The dashboards' round figures (issue 22): planned / done / late per round and per college, month over
month, in a fixed number of statements; a college sees its own labs only."""
from __future__ import annotations

from datetime import date

from app.extensions import db
from app.rounds import services
from tests.factories import make_college, make_lab
from tests.factories.reports import local

from .figures_scenario import NOV, OCT, SEP, count_statements, inspect, plan, scenario
from .helpers import world


def _tally(t):
    return (t.planned, t.done, t.late)


def test_planned_done_late_per_round_and_per_college_month_by_month(app):
    w = scenario()
    f = services.round_figures(SEP, NOV, None, local(2026, 11, 1, 12))
    assert f.months == [SEP, OCT, NOV]
    by_round = {r["id"]: (r["month"], r["planned"], r["done"], r["late"], r["status"]) for r in f.rounds}
    assert by_round == {
        w.september.id: (SEP, 3, 1, 2, "over"),
        w.october.id: (OCT, 4, 2, 2, "over"),  # a0 once (two inspections), a1 by the late sync
        w.november.id: (NOV, 4, 1, 0, "running"),  # not late before its window is over
    }
    assert [r["id"] for r in f.of_month(OCT)] == [w.october.id]
    colleges = {c.college_id: {m: _tally(t) for m, t in c.months.items()} for c in f.colleges}
    # The school round's labs count for their own colleges; the college round for college A.
    assert colleges[w.college.id] == {SEP: (3, 1, 2), OCT: (3, 2, 1), NOV: (3, 1, 0)}
    assert colleges[w.other_college.id] == {SEP: (0, 0, 0), OCT: (1, 0, 1), NOV: (1, 0, 0)}
    assert {m: _tally(t) for m, t in f.total.items()} == {SEP: (3, 1, 2), OCT: (4, 2, 2), NOV: (4, 1, 0)}


def test_late_only_once_the_window_is_over(app):
    w = scenario()
    on_last_day = services.round_figures(OCT, OCT, None, local(2026, 10, 10, 12))
    assert [(r["late"], r["status"]) for r in on_last_day.rounds] == [(0, "running")]
    # The window ends at the end of 10 October, school time.
    at_midnight = services.round_figures(OCT, OCT, None, local(2026, 10, 11, 0, 0))
    assert [(r["done"], r["late"], r["status"]) for r in at_midnight.rounds] == [(2, 2, "over")]
    assert w.october.id == at_midnight.rounds[0]["id"]


def test_a_college_sees_its_labs_of_its_rounds_and_the_schools(app):
    w = scenario()
    f = services.round_figures(SEP, NOV, w.college.id, local(2026, 11, 1, 12))
    assert [c.college_id for c in f.colleges] == [w.college.id]
    assert {r["id"]: (r["planned"], r["done"], r["late"]) for r in f.rounds} == {
        w.september.id: (3, 1, 2), w.october.id: (3, 2, 1), w.november.id: (3, 1, 0)}
    assert {m: _tally(t) for m, t in f.total.items()} == {SEP: (3, 1, 2), OCT: (3, 2, 1), NOV: (3, 1, 0)}
    # College B: the school rounds' one lab; not college A's round.
    other = services.round_figures(SEP, NOV, w.other_college.id, local(2026, 11, 1, 12))
    assert {r["id"]: (r["planned"], r["late"]) for r in other.rounds} == {w.october.id: (1, 1), w.november.id: (1, 0)}


def test_an_unannounced_round_counts_from_its_first_day(app):
    w = world()
    spot = plan(w, date(2026, 11, 20), date(2026, 11, 30), unannounced=True)
    before = services.round_figures(NOV, NOV, None, local(2026, 11, 19, 12))
    assert before.rounds == [] and before.total[NOV].planned == 0
    after = services.round_figures(NOV, NOV, w.college.id, local(2026, 11, 20, 12))
    assert [(r["id"], r["planned"]) for r in after.rounds] == [(spot.id, 3)]


def test_the_statement_count_does_not_grow_with_labs_rounds_colleges_or_months(app):
    w = scenario()
    now = local(2026, 11, 1, 12)
    small = count_statements(lambda: services.round_figures(OCT, OCT, None, now))
    for _ in range(3):
        college = make_college()
        labs = [make_lab(college) for _ in range(5)]
        for month in (9, 10):
            r = plan(w, date(2026, month, 2), date(2026, month, 20), lab_ids=[lab.id for lab in labs + w.labs])
            inspect(w, labs[0], "school", local(2026, month, 3))
            assert r.id
    college_id = w.college.id
    db.session.expire_all()
    large = count_statements(lambda: services.round_figures(SEP, NOV, None, now))
    one = count_statements(lambda: services.round_figures(SEP, NOV, college_id, now))
    assert (small, large, one) == (3, 3, 3)
    f = services.round_figures(SEP, NOV, None, now)
    assert len(f.rounds) == 9 and len(f.colleges) == 5

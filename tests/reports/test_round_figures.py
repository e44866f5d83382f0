"""The rounds in the monthly summary, its exports and GET /api/reports/rounds (issue 22): planned / done /
late per round and per college, month over month, in the summary's fixed number of statements."""
from __future__ import annotations

import csv
import io
from datetime import date

from app.reports.services import ROUND_MONTHS, monthly_summary
from tests.factories import login, make_college, make_lab
from tests.factories.reports import local
from tests.rounds.figures_scenario import OCT, SEP, count_statements, inspect, plan, scenario

NOW = local(2026, 11, 1, 12)


def test_the_summary_carries_the_months_rounds_and_six_months_per_college(app):
    w = scenario()
    s = monthly_summary(OCT, None, app.config, now=NOW)
    f = s.rounds
    assert len(f.months) == ROUND_MONTHS and f.months[0] == date(2026, 5, 1) and f.months[-1] == OCT
    assert [(r["id"], r["planned"], r["done"], r["late"]) for r in f.of_month(OCT)] == [(w.october.id, 4, 2, 2)]
    a = {c.college_id: c for c in f.colleges}[w.college.id]
    assert (a.months[SEP].planned, a.months[SEP].done, a.months[SEP].late) == (3, 1, 2)
    assert (a.months[OCT].planned, a.months[OCT].done, a.months[OCT].late) == (3, 2, 1)
    one = monthly_summary(OCT, w.other_college.id, app.config, now=NOW).rounds
    assert [c.college_id for c in one.colleges] == [w.other_college.id]
    assert [(r["planned"], r["late"]) for r in one.of_month(OCT)] == [(1, 1)]
    assert one.total[SEP].planned == 0  # college A's own round is not college B's


def test_the_summarys_statement_count_stays_fixed_with_rounds(app):
    w = scenario()
    small = count_statements(lambda: monthly_summary(OCT, None, app.config, now=NOW))
    for month in (6, 8, 10):
        college = make_college()
        labs = [make_lab(college) for _ in range(4)]
        plan(w, date(2026, month, 2), date(2026, month, 20), lab_ids=[lab.id for lab in labs + w.labs])
        inspect(w, labs[0], "school", local(2026, month, 3))
    large = count_statements(lambda: monthly_summary(OCT, None, app.config, now=NOW, count_statements=True))
    assert small == large == 26  # 2 of them the accidents' (app.accidents)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_page_shows_the_rounds_in_chinese_and_english(app, client):
    w = scenario()
    login(client, w.admin)
    zh = client.get("/reports/monthly?month=2026-10").get_data(as_text=True)
    for text in ("2026-10 截止的检查计划（第二十六至二十八条）", "各学院检查计划完成情况（逐月）", "逾期 1",
                 "校级检查计划", "2026-05", w.october.title):
        assert text in zh, text
    assert zh.count('class="chart"') == 4  # the three of the summary and the rounds'
    en = client.get("/reports/monthly?month=2026-10&lang=en").get_data(as_text=True)
    for text in ("Rounds ending in 2026-10 (art. 26-28)", "Round labs by college, month over month", "1 late",
                 "School-wide round", "2/3", "Rounds: a round belongs to the month its window ends in."):
        assert text in en, text
    # A college leader's summary: their college only, the school round's labs in it.
    login(client, w.leader)
    mine = client.get(f"/colleges/{w.college.id}/reports/monthly?month=2026-10&lang=en").get_data(as_text=True)
    assert "2/3" in mine and w.other_college.name not in mine


def test_the_exports_carry_the_rounds(app, client):
    w = scenario()
    login(client, w.admin)
    rows = _rows(client.get("/reports/monthly.csv?month=2026-10&lang=en").get_data(as_text=True))
    start = rows.index(["Rounds ending in 2026-10 (art. 26-28)"])
    assert rows[start + 1][6:9] == ["Labs planned", "Labs done", "Labs late"]
    assert rows[start + 2][:3] == [str(w.october.id), w.october.title, "School-wide round"]
    assert rows[start + 2][6:9] == ["4", "2", "2"]
    table = rows.index(["Round labs by college, month over month"])
    assert rows[table + 1][-3:] == ["Labs planned 2026-10", "Labs done 2026-10", "Labs late 2026-10"]
    assert rows[table + 2][1] == "Whole school" and rows[table + 2][-6:] == ["3", "1", "2", "4", "2", "2"]


def test_the_json_figures(app, client):
    w = scenario()
    login(client, w.admin)
    resp = client.get("/api/reports/rounds?from=2026-09&to=2026-11")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["months"] == ["2026-09", "2026-10", "2026-11"] and body["college_id"] is None
    assert [(t["month"], t["planned"], t["done"]) for t in body["total"]] == [
        ("2026-09", 3, 1), ("2026-10", 4, 2), ("2026-11", 4, 1)]
    assert {r["id"]: r["month"] for r in body["rounds"]} == {
        w.september.id: "2026-09", w.october.id: "2026-10", w.november.id: "2026-11"}
    assert "seed" not in body["rounds"][0]
    login(client, w.leader)
    mine = client.get(f"/api/reports/rounds?from=2026-10&to=2026-10&college_id={w.college.id}").get_json()
    assert [c["college_id"] for c in mine["colleges"]] == [w.college.id]
    assert mine["total"] == [{"month": "2026-10", "planned": 3, "done": 2, "late": 1}]
    assert client.get(f"/api/reports/rounds?college_id={w.other_college.id}").status_code == 403
    # Asked without a college, a leader gets their own (as the summary page redirects them).
    assert client.get("/api/reports/rounds?from=2026-10&to=2026-10").get_json()["college_id"] == w.college.id
    # Without months: this month and the five before.
    assert len(client.get(f"/api/reports/rounds?college_id={w.college.id}").get_json()["months"]) == 6


def test_bad_months_are_a_clear_400(app, client):
    w = scenario()
    login(client, w.admin)
    for query, field, message in (
        ("from=2026-13", "from", "Give the month as YYYY-MM, for example 2026-10."),
        ("from=10/2026&to=2026-10", "from", "Give the month as YYYY-MM, for example 2026-10."),
        ("to=soon", "to", "Give the month as YYYY-MM, for example 2026-10."),
        ("from=2026-10&to=2026-09", "from", "The first month (from) is after the last (to)."),
        ("from=2024-01&to=2026-10", "to", "Ask for at most 24 months at a time."),
    ):
        resp = client.get(f"/api/reports/rounds?{query}&lang=en")
        assert resp.status_code == 400, query
        error = resp.get_json()["error"]
        assert error["message"] == message and field in error["details"]["fields"], query
    zh = client.get("/api/reports/rounds?from=2026-10&to=2026-09").get_json()["error"]["message"]
    assert zh == "起始月份（from）晚于结束月份（to）。"
    assert client.get("/api/reports/rounds?college_id=0").status_code == 400
    assert client.get("/api/reports/rounds?college_id=99999").status_code == 404

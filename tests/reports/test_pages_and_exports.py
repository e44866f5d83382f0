"""The summary page, its CSV/XLSX exports and the CLI carry the same figures."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from app.auth.models import Role
from tests.factories import login, make_user

from . import scenario


def _sections(text: str) -> dict[str, list[list[str]]]:
    """CSV blocks: title row, header row, data rows, blank line."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    out, i = {}, 0
    while i < len(rows) and rows[i]:
        i += 1  # the document title (and the "not over" note)
    while i < len(rows):
        if not rows[i]:
            i += 1
            continue
        title = rows[i][0]
        block = []
        i += 1
        while i < len(rows) and rows[i]:
            block.append(rows[i])
            i += 1
        out[title] = block
    return out


def test_school_page_shows_charts_and_figures(app, client):
    scenario.build()
    admin = make_user(Role.school_admin)
    login(client, admin)
    resp = client.get("/reports/monthly?month=2026-10&lang=en")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.count('class="chart"') == 3  # compliance, college-check coverage, hazards by article
    assert "59.7%" in html  # school compliance 40/67 (A2's Oct 17: missed, not checked)
    assert ">53.3<" in html  # September: 32/60, beside it in the table
    for name in ("化学与材料工程学院", "生命科学学院", "外国语学院"):
        assert name in html
    assert "art. 23" in html
    assert 'href="/reports/monthly.csv?month=2026-10"' in html
    assert "<script>" not in html.split("<main", 1)[1]
    css = open(app.static_folder + "/css/reports.css").read()
    assert "@page { size: A4 portrait" in css and "break-inside: avoid" in css


def test_default_month_and_bad_month(app, client):
    admin = make_user(Role.school_admin)
    login(client, admin)
    assert client.get("/reports/monthly").status_code == 200
    assert client.get("/reports/monthly?month=2026-13").status_code == 400
    assert client.get("/reports/monthly?month=2999-01").status_code == 400
    assert client.get("/reports/monthly?college_id=999999").status_code == 404


def test_college_leader_sees_only_their_college(app, client):
    labs = scenario.build()
    leader = make_user(Role.college_leader, college=labs["ca"])
    login(client, leader)
    resp = client.get("/reports/monthly?month=2026-10")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/colleges/{labs['ca'].id}/reports/monthly?month=2026-10")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "化学与材料工程学院" in html and "生命科学学院" not in html and "微生物实验室" not in html
    assert "55.6%" in html  # CA: 20/36
    assert client.get(f"/reports/monthly?college_id={labs['cb'].id}").status_code == 403
    assert client.get(f"/colleges/{labs['cb'].id}/reports/monthly").status_code == 403
    assert client.get(f"/reports/monthly.csv?college_id={labs['cb'].id}").status_code == 403
    assert client.get("/reports/monthly.csv").status_code == 403


def test_csv_export_contains_the_figures(app, client):
    scenario.build()
    login(client, make_user(Role.school_admin))
    resp = client.get("/reports/monthly.csv?month=2026-10&lang=en")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="labsafe-monthly-2026-10.csv"' in resp.headers["Content-Disposition"]
    sections = _sections(resp.get_data(as_text=True))
    overview = sections["Labs and daily checks (art. 29)"]
    assert overview[0][:6] == ["Code", "College", "Labs 2026-10", "Labs 2026-09", "Open lab-days 2026-10",
                               "Open lab-days 2026-09"]
    # school, CA, CB, CC: labs, open days, checked days, compliance %, missed (this month, previous)
    assert overview[1] == ["", "Whole school", "3", "2", "67", "60", "40", "32", "59.7", "53.3", "17", "3"]
    assert overview[2] == ["CA", "化学与材料工程学院", "2", "1", "36", "30", "20", "2", "55.6", "6.7", "6", "3"]
    assert overview[3] == ["CB", "生命科学学院", "1", "1", "31", "30", "20", "30", "64.5", "100.0", "11", "0"]
    assert overview[4] == ["CC", "外国语学院", "0", "0", "0", "0", "0", "0", "", "", "0", "0"]
    tickets = sections["Rectification (art. 29, 30)"]
    assert tickets[1] == ["", "Whole school", "3", "0", "1", "0", "2", "2", "2", "1", "3", "2", "4.0", ""]
    articles = sections["Hazards found by article"]
    assert ["", "Whole school", "art. 23", "3", "0"] in articles
    assert ["CB", "生命科学学院", "art. 24", "1", "0"] in articles
    missed = sections["Labs with the most missed daily checks"]
    assert missed[1:] == [
        ["B1", "微生物实验室", "生命科学学院", "11"],
        ["A1", "有机化学实验室", "化学与材料工程学院", "5"],
        ["A2", "分析化学实验室", "化学与材料工程学院", "1"],
    ]
    oldest = sections["Oldest open tickets"]
    assert [r[1] for r in oldest[1:]] == ["B1", "A1", "B1"]
    assert oldest[1][7:] == ["2026-08-20", "2026-08-22", "72.6"]


def test_xlsx_export_has_a_sheet_per_section(app, client):
    labs = scenario.build()
    login(client, make_user(Role.school_admin))
    resp = client.get(f"/reports/monthly.xlsx?month=2026-10&college_id={labs['ca'].id}&lang=en")
    assert resp.status_code == 200
    assert 'filename="labsafe-monthly-2026-10-CA.xlsx"' in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == [
        "About",
        "Daily checks",
        "Inspections",
        "Grades",
        "Cadence",
        "Hazards by severity",
        "Hazards by article",
        "Rectification",
        "Most missed checks",
        "Oldest open tickets",
        "Accidents",
        "Rounds",
        "Rounds by college",
    ]
    ws = wb["Daily checks"]
    assert [c.value for c in ws[3]] == ["CA", "化学与材料工程学院", 2, 1, 36, 30, 20, 2, 55.6, 6.7, 6, 3]
    assert ws.max_row == 3  # the college only
    ws = wb["Inspections"]  # daily, college, school, special
    assert [c.value for c in ws[3]][2:] == [24, 2, 1, 0, 0, 1, 1, 0]
    ws = wb["Cadence"]  # labs with a college check, coverage %, with a school check this semester, coverage %
    assert [c.value for c in ws[3]][2:] == [1, 0, 50.0, 0.0, 1, 1, 50.0, 100.0]
    ws = wb["Rectification"]
    assert [c.value for c in ws[3]][2:] == [1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 5.5, None]


def test_cli_writes_csv_and_xlsx(app, runner, tmp_path):
    scenario.build()
    out = tmp_path / "october.csv"
    result = runner.invoke(args=["monthly-summary", "--month", "2026-10", "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    sections = _sections(out.read_text(encoding="utf-8"))
    assert sections["Labs and daily checks (art. 29)"][1][:4] == ["", "Whole school", "3", "2"]
    out = tmp_path / "october-cb.xlsx"
    result = runner.invoke(args=["monthly-summary", "--month", "2026-10", "--college", "CB", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert len(wb.sheetnames) == 13
    assert wb.sheetnames[:3] == ["说明", "日查", "检查记录"]  # Chinese by default (needs the compiled catalogue)
    rows = list(wb.worksheets[1].iter_rows(values_only=True))
    assert rows[2][:4] == ("CB", "生命科学学院", 1, 1)
    bad = runner.invoke(args=["monthly-summary", "--month", "2026-10", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code != 0 and ".csv or .xlsx" in bad.output
    bad = runner.invoke(args=["monthly-summary", "--college", "NOPE", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0 and "NOPE" in bad.output
    assert re.search(r"\d+ SQL statements", result.output)


def test_end_of_day_deadlines_half_up_percentages_and_definitions(app, client):
    """A deadline at midnight prints as the end of the day before, everywhere; 6.25 % prints as 6.3
    (half up, as in Excel), not 6.2; the definitions of the figures travel with the page and the exports."""
    from app.extensions import db
    from tests.factories import make_college, make_lab
    from tests.factories.reports import add_inspection, add_ticket, local, make_checklist_version

    lab = make_lab(make_college(code="RND", name="数学学院"), code="R1")
    lab.created_at = local(2026, 10, 16, 0)  # open days Oct 16-31: 16
    add_inspection(lab, "daily", local(2026, 10, 20, 9), inspector=make_user(Role.inspector),
                   version=make_checklist_version())  # 1 / 16 = 6.25 %
    ticket = add_ticket(lab, "23", "general", local(2026, 10, 11), local(2026, 10, 18, 0, 0))  # end of Oct 17
    db.session.commit()
    login(client, make_user(Role.school_admin))

    sections = _sections(client.get("/reports/monthly.csv?month=2026-10&lang=en").get_data(as_text=True))
    assert sections["Labs and daily checks (art. 29)"][2][:10] == ["RND", "数学学院", "1", "0", "16", "0", "1", "0",
                                                                   "6.3", ""]
    oldest = sections["Oldest open tickets"]
    assert oldest[0][8] == "Deadline (by the end of the day)" and oldest[1][8] == "2026-10-17"
    definitions = " ".join(r[0] for r in sections["How the figures are counted"])
    assert "Overdue at month end: tickets (not events)" in definitions
    assert "waiting for verification" in definitions and "Escalated: tickets (not events)" in definitions

    html = client.get(f"/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "2026-10-17 24:00" in html and "2026-10-18" not in html
    page = client.get("/reports/monthly?month=2026-10").get_data(as_text=True)  # Chinese by default
    assert "6.3%" in page and "不按记录计" in page and "等待验证" in page
    wb = load_workbook(io.BytesIO(client.get("/reports/monthly.xlsx?month=2026-10").data))
    about = " ".join(str(c.value) for row in wb.worksheets[0].iter_rows() for c in row if c.value)
    assert "统计口径" in about and "不按记录计" in about
    assert wb["最久未关闭的整改单"].cell(row=3, column=9).value == "2026-10-17"

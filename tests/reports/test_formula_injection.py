"""Names typed by people never reach a spreadsheet as live formulas (CSV / formula injection)."""
from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.org import csv_import
from app.org.models import Lab
from app.spreadsheet import safe_cell
from tests.factories import login, make_college, make_user
from tests.factories.reports import add_missed, add_ticket, local

from . import scenario

EVIL = '=HYPERLINK("http://evil.example/","CHEM-103")'


def _evil_world():
    labs = scenario.build()
    make_college(code="EV", name="@SUM(1+1)*cmd|' /C calc'!A0")
    officer = make_user(username="evil.officer")
    # The CSV import accepts the name (it is only text); the exports must not run it.
    data = ("code,name,college,category,phone,officers\n"
            f'X1,"{EVIL.replace(chr(34), chr(34) * 2)}",CA,chemistry,-1+1,{officer.username}\n').encode()
    assert csv_import.import_labs(data).created == ["X1"]
    lab = db.session.scalar(select(Lab).where(Lab.code == "X1"))
    assert lab.name == EVIL
    lab.created_at = local(2026, 1, 1)  # active in October, the month exported
    add_missed(lab, *(date(2026, 10, d) for d in range(1, 31)))  # first in "most missed"
    add_ticket(lab, "23", "general", local(2026, 8, 1), local(2026, 8, 2))  # first in "oldest open"
    db.session.commit()
    return labs


def test_safe_cell():
    for text in ("=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "-", "=", EVIL):
        assert safe_cell(text) == "'" + text
    for value in ("-3.5", "+2", "-1e3", "CHEM-103", "化学 = 1", "", 0, -5, -2.5):
        assert safe_cell(value) == value
    assert safe_cell(None) == ""


def test_csv_export_neutralises_formulas(app, client):
    _evil_world()
    login(client, make_user(Role.school_admin))
    resp = client.get("/reports/monthly.csv?month=2026-10&lang=en")
    assert resp.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))) for c in row]
    assert "'" + EVIL in cells and EVIL not in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit()]


def test_xlsx_export_writes_text_never_a_formula(app, client):
    _evil_world()
    login(client, make_user(Role.school_admin))
    resp = client.get("/reports/monthly.xlsx?month=2026-10&lang=en")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                seen.append(cell.value)
    assert "'" + EVIL in seen and EVIL not in seen
    assert wb["Most missed checks"]["B3"].value == "'" + EVIL
    assert wb["Most missed checks"]["D3"].value == 30  # numbers stay numbers


def test_csv_export_content_type_names_its_charset_once(app, client):
    scenario.build()
    login(client, make_user(Role.school_admin))
    resp = client.get("/reports/monthly.csv?month=2026-10")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    login(client, make_user(Role.school_admin))
    resp = client.get("/admin/import/example/users.csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"

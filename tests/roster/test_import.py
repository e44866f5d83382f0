"""Importing the exam system's export (CSV or XLSX): all or nothing, row-numbered errors, bounded size."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.roster import importing
from app.roster.models import RosterEntry, RosterEvent
from tests.factories import login, make_lab, make_user
from tests.factories.roster import make_entry

GOOD = ("name,staff_no,exam_date,exam_score,exam_passed,valid_until\n"
        "张三,20230001,2025-09-01,92,是,2026-09-01\n"
        "李四,20230002,2025/09/02,60,通过,\n")


def _count():
    return db.session.scalar(select(func.count()).select_from(RosterEntry))


def _post(client, lab, data: bytes, filename="export.csv"):
    return client.post(f"/api/labs/{lab.id}/roster/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_a_csv_export_is_imported_then_reimported_unchanged(app, client):
    lab = make_lab()
    login(client, make_user(Role.lab_officer, lab=lab))
    resp = _post(client, lab, GOOD.encode("utf-8-sig"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"created": ["20230001", "20230002"], "updated": [], "unchanged": []}
    again = _post(client, lab, GOOD.encode())
    assert again.get_json()["unchanged"] == ["20230001", "20230002"]
    changed = _post(client, lab, GOOD.replace(",92,", ",95,").encode())
    assert changed.get_json()["updated"] == ["20230001"]
    assert _count() == 2
    assert db.session.scalar(select(func.count()).select_from(RosterEvent).where(RosterEvent.kind == "imported")) == 3


def test_one_bad_row_refuses_the_whole_file(app, client):
    lab = make_lab()
    login(client, make_user(Role.lab_officer, lab=lab))
    make_entry(lab, staff_no="20230001", exam_score=50)
    bad = GOOD + "王五,20230003,2025-13-40,abc,maybe,\n" + "赵六,20230002,2025-09-01,70,yes,\n"
    resp = _post(client, lab, bad.encode())
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert "未导入任何内容" in error["message"]  # zh-CN first
    rows = {(e["row"], e["column"]) for e in error["details"]["rows"]}
    assert {(4, "exam_date"), (4, "exam_score"), (4, "exam_passed"), (5, "staff_no")} <= rows
    assert any("4" in line for line in error["details"]["errors"])
    assert _count() == 1  # the one there before, untouched
    assert db.session.scalar(select(RosterEntry.exam_score)) == 50


def test_chinese_headers_and_xlsx(app, client):
    from datetime import datetime
    lab = make_lab()
    login(client, make_user(Role.lab_officer, lab=lab))
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "学号", "考试日期", "成绩", "是否通过"])
    sheet.append(["孙七", "S001", datetime(2025, 9, 3), 81, "通过"])
    sheet.append([None, None, None, None, None])
    sheet.append(["周八", "S002", "2025-09-04", 55.0, "未通过"])
    buf = io.BytesIO()
    book.save(buf)
    resp = _post(client, lab, buf.getvalue(), "导出.xlsx")
    assert resp.status_code == 200, resp.get_json()
    people = {e.staff_no: e for e in db.session.scalars(select(RosterEntry))}
    assert people["S001"].exam_date.isoformat() == "2025-09-03" and people["S001"].exam_passed
    assert people["S002"].exam_score == 55 and not people["S002"].exam_passed


def test_bad_files_get_clear_4xx(app, client):
    lab = make_lab()
    login(client, make_user(Role.lab_officer, lab=lab))
    assert _post(client, lab, b"PK\x03\x04not a zip", "x.xlsx").status_code == 400
    assert _post(client, lab, b"name,staff_no\nA,1\n", "x.csv").get_json()["error"]["details"]["rows"][0]["row"] == 1
    assert _post(client, lab, b"x" * (importing.MAX_BYTES + 10)).status_code == 413
    assert _post(client, lab, b"\xff\xfe", "old.xls").status_code == 415
    assert _post(client, lab, b"name,staff_no,exam_date,exam_score,exam_passed\n").status_code == 400
    resp = client.post(f"/api/labs/{lab.id}/roster/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert _count() == 0


def test_the_page_lists_row_errors(app, client):
    lab = make_lab()
    login(client, make_user(Role.lab_officer, lab=lab))
    resp = client.post(f"/labs/{lab.id}/roster/import", data={"file": (io.BytesIO(b"name,staff_no,exam_date,exam_score,"
                                                                               b"exam_passed\n,1,x,1,yes\n"), "a.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "20230001" not in resp.get_data(as_text=True) and "2" in resp.get_data(as_text=True)

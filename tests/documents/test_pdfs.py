"""What the issued PDFs say, read back with pypdf, and page 1 drawn with pdftoppm (not blank)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app

from app.checklists.services import article_label
from app.inspections.models import InspectionAnswer
from app.tickets.lifecycle import perform_action
from app.tickets.models import RectificationTicket
from app.timeutil import format_deadline
from tests.factories import login
from tests.factories.inspections import applicable_items, make_inspection
from tests.factories.tickets import make_ticket

from .helpers import first_page_png, is_blank, pdf_pages, pdf_text


def _flat(text: str) -> str:
    return "".join(text.split())  # line breaks fall anywhere in a table cell


def _failed_ticket(inspection) -> RectificationTicket:
    from app.extensions import db

    return db.session.query(RectificationTicket).filter_by(inspection_id=inspection.id).one()


def test_inspection_report_lists_every_answer_with_its_article(client, w, failed):
    login(client, w.leader_a)
    resp = client.get(f"/inspections/{failed.id}/report.pdf")
    text = _flat(pdf_text(resp.data))
    assert _flat(w.lab_a.name) in text and w.lab_a.code in text
    assert "实验室安全检查记录" in text and "湖州师范学院" in text
    assert _flat(w.full.title) in text and "v1" in text
    for item in applicable_items(w.full, w.lab_a):
        assert _flat(item.text) in text and _flat(article_label(item.article)) in text
    assert "不合格" in text and "合格" in text and w.inspector_a.name in text
    assert f"{failed.score:.1f}" in text and failed.grade in text
    assert "检查人签字" in text and "实验室代表签字" in text  # the signature areas, empty: not signed on the phone
    assert "第1页，共" in text  # the page counters
    assert not is_blank(first_page_png(resp.data))


def test_english_reader_gets_english(client, w, failed):
    login(client, w.leader_a)
    text = _flat(pdf_text(client.get(f"/inspections/{failed.id}/report.pdf?lang=en").data))
    assert "Laboratorysafetyinspectionrecord" in text and "HuzhouUniversity" in text
    assert "Art.23" in text and "Page1of" in text


def test_rectification_notice_names_each_hazard_its_article_and_deadline(client, w, failed):
    ticket = _failed_ticket(failed)
    login(client, w.inspector_a)
    resp = client.get(f"/inspections/{failed.id}/notice.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _flat(pdf_text(resp.data))
    assert "整改通知书" in text and _flat(w.lab_a.name) in text
    assert _flat(ticket.title) in text and _flat(article_label(ticket.article)) in text
    # The deadline is the tickets domain's, set by severity when it opened the ticket (art. 29).
    assert _flat(format_deadline(ticket.deadline, current_app.config["SCHOOL_TIMEZONE"])) in text
    assert w.officer_a.name in text and w.leader_a.name in text  # addressed to the officer and the college
    assert "整改回执" in text  # the reply slip
    assert not is_blank(first_page_png(resp.data))


def test_no_notice_for_an_inspection_without_failures(client, w):
    clean, _ = make_inspection(w.inspector_a, w.lab_a, w.full)
    login(client, w.leader_a)
    resp = client.get(f"/inspections/{clean.id}/notice.pdf", headers={"Accept": "application/json"})
    assert resp.status_code == 404
    assert "no hazard" in resp.get_json()["error"]["message"] or "未发现隐患" in resp.get_json()["error"]["message"]


def test_written_report_of_a_major_hazard_goes_to_the_college_and_the_department(client, w):
    ticket = make_ticket(w.lab_a, severity="major", article="16(2)", title="剧毒化学品未双人双锁")
    login(client, w.leader_a)
    resp = client.get(f"/tickets/{ticket.id}/written-report.pdf")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    text = _flat(pdf_text(resp.data))
    assert "书面报告" in text and "剧毒化学品未双人双锁" in text and "16(2)" in text
    assert _flat(w.lab_a.college.name) in text and "实验室建设与管理处" in text  # routed (art. 9)
    assert "重大隐患" in text and w.leader_a.name in text
    assert not is_blank(first_page_png(resp.data))


def test_written_report_of_a_hazard_the_lab_cannot_fix_has_its_interim_measures(client, w):
    ticket = make_ticket(w.lab_a, severity="general", article="24(6)", title="通风柜损坏")
    login(client, w.leader_a)
    assert client.get(f"/tickets/{ticket.id}/written-report.pdf").status_code == 404  # neither major nor cannot-fix
    perform_action(w.officer_a, ticket.id, "declare_cannot_fix", config=current_app.config,
                   interim_measures="停用通风柜并张贴警示")
    from app.extensions import db

    db.session.commit()
    text = _flat(pdf_text(client.get(f"/tickets/{ticket.id}/written-report.pdf").data))
    assert "停用通风柜并张贴警示" in text and "暂时无法整改" in text


def test_monthly_summary_pdf_of_a_final_month(client, w, failed):
    login(client, w.admin)
    resp = client.get("/reports/monthly.pdf?month=2026-01")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    text = _flat(pdf_text(resp.data))
    assert "2026-01" in text and "YB-00001" in text and "湖州师范学院" in text
    assert pdf_pages(resp.data) >= 1 and not is_blank(first_page_png(resp.data))
    assert client.get("/reports/monthly.pdf?month=2026-01").data == resp.data


def test_monthly_summary_is_filed_only_once_final(client, w):
    login(client, w.admin)
    this_month = datetime.now(UTC).strftime("%Y-%m")
    resp = client.get(f"/reports/monthly.pdf?month={this_month}", headers={"Accept": "application/json"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["details"]["final_from"] > this_month
    nxt = (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m")
    assert client.get(f"/reports/monthly.pdf?month={nxt}").status_code == 409


def test_evidence_photos_are_printed(client, w, failed):
    from app.extensions import db

    answer = db.session.query(InspectionAnswer).filter_by(inspection_id=failed.id, result="fail").one()
    assert answer.photo_refs
    login(client, w.leader_a)
    with_photo = client.get(f"/inspections/{failed.id}/notice.pdf").data
    assert b"/Subtype /Image" in with_photo or b"/Image" in with_photo

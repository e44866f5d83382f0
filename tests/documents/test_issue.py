"""Issuing the official record: rendered once, filed with its number and SHA-256, served as stored."""
from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import select

from app.documents import services
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db
from tests.factories import login
from tests.factories.inspections import make_inspection


def _docs():
    return db.session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)).all()


def test_first_download_issues_later_ones_serve_the_stored_bytes(client, w, failed):
    login(client, w.leader_a)
    first = client.get(f"/inspections/{failed.id}/report.pdf")
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.mimetype == "application/pdf"
    login(client, w.officer_a)  # another reader: the same document, byte for byte
    again = client.get(f"/inspections/{failed.id}/report.pdf")
    assert again.data == first.data
    [doc] = _docs()
    assert doc.kind == DocumentKind.inspection_report and doc.issued_by_id == w.leader_a.id
    assert doc.sha256 == hashlib.sha256(first.data).hexdigest() == first.headers["X-Document-SHA256"]
    assert doc.byte_size == len(first.data) and doc.lab_id == w.lab_a.id and doc.inspection_id == failed.id
    stored = client.get(f"/documents/{doc.id}.pdf")
    assert stored.status_code == 200 and stored.data == first.data


def test_numbers_count_per_kind_and_year(client, w, failed):
    other, _ = make_inspection(w.inspector_a, w.lab_a, w.full)
    login(client, w.leader_a)
    client.get(f"/inspections/{failed.id}/report.pdf")
    client.get(f"/inspections/{other.id}/report.pdf")
    client.get(f"/inspections/{failed.id}/notice.pdf")
    numbers = [d.number for d in _docs()]
    year = numbers[0].split("-")[1]
    assert numbers == [f"HZNU-{year}-JC-00001", f"HZNU-{year}-JC-00002", f"HZNU-{year}-ZG-00001"]


def test_each_language_is_its_own_document(client, w, failed):
    login(client, w.leader_a)
    zh = client.get(f"/inspections/{failed.id}/report.pdf")
    en = client.get(f"/inspections/{failed.id}/report.pdf?lang=en")
    assert zh.data != en.data
    assert [d.language for d in _docs()] == ["zh_CN", "en"]


def test_issuing_twice_in_one_transaction_files_one(app, w, failed):
    calls = []

    def render(number, issued_at):
        calls.append(number)
        return b"%PDF-1.7 test"

    subject = services.inspection_subject(failed)
    a = services.issue(subject, "zh_CN", None, current_app.config, render, own_transaction=False)
    b = services.issue(subject, "zh_CN", None, current_app.config, render, own_transaction=False)
    db.session.commit()
    assert a.id == b.id and len(calls) == 1 and len(_docs()) == 1


def test_the_document_page_shows_the_hash(client, w, failed):
    login(client, w.leader_a)
    client.get(f"/inspections/{failed.id}/report.pdf")
    [doc] = _docs()
    page = client.get(f"/documents/{doc.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert doc.sha256 in html and doc.number in html and f"/documents/{doc.id}.pdf" in html


def test_the_lab_lists_its_documents(client, w, failed):
    login(client, w.leader_a)
    client.get(f"/inspections/{failed.id}/report.pdf")
    client.get(f"/inspections/{failed.id}/notice.pdf")
    body = client.get(f"/api/labs/{w.lab_a.id}/documents").get_json()
    assert [d["kind"] for d in body] == ["rectification_notice", "inspection_report"]
    first = body[0]
    assert first["number"].endswith("-ZG-00001") and len(first["sha256"]) == 64
    assert first["url"] == f"/documents/{first['id']}" and first["pdf_url"] == f"/documents/{first['id']}.pdf"
    assert first["issued_at"].endswith("Z") and first["inspection_id"] == failed.id
    assert client.get(f"/api/labs/{w.lab_b.id}/documents").status_code == 403


def test_bad_ids_and_months_get_a_clear_4xx(client, w, failed):
    login(client, w.admin)
    for path in ("/inspections/999999/report.pdf", "/inspections/999999/notice.pdf",
                 "/tickets/999999/written-report.pdf", "/documents/999999", "/documents/999999.pdf",
                 "/documents/99999999999", "/api/labs/999999/documents"):
        resp = client.get(path)
        assert resp.status_code == 404, path
    for month in ("2026-13", "October", "1999-01"):
        resp = client.get(f"/reports/monthly.pdf?month={month}", headers={"Accept": "application/json"})
        assert resp.status_code == 400, month
        assert "YYYY-MM" in resp.get_data(as_text=True)
    assert not _docs()

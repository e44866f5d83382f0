"""Issuing the official record: rendered once, filed with its number and SHA-256, served as stored."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.documents.models import IssuedDocument
from app.extensions import db
from tests.factories import login, photo_bytes
from tests.factories.inspections import make_inspection, make_small_world

from .helpers import first_page_png, is_blank, pdf_text


@pytest.fixture
def w(app):
    return make_small_world()


@pytest.fixture
def failed(app, w):
    inspection, photo = make_inspection(w.inspector_a, w.lab_a, w.full, fail_with_photo=photo_bytes(seed=3))
    return inspection


def test_inspection_report_is_issued_once_and_served_byte_identical(client, w, failed):
    login(client, w.leader_a)
    first = client.get(f"/inspections/{failed.id}/report.pdf")
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.mimetype == "application/pdf"
    again = client.get(f"/inspections/{failed.id}/report.pdf")
    assert again.data == first.data
    docs = db.session.scalars(select(IssuedDocument)).all()
    assert len(docs) == 1
    doc = docs[0]
    assert doc.sha256 == hashlib.sha256(first.data).hexdigest() == first.headers["X-Document-SHA256"]
    assert doc.number.startswith("HZNU-") and "-JC-00001" in doc.number
    text = pdf_text(first.data)
    assert w.lab_a.name in text and doc.number in text
    assert not is_blank(first_page_png(first.data))

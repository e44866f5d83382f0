"""Issued documents are never changed or deleted (art. 30): the ORM refuses, and so does the database
itself, whatever the client (row triggers on SQLite and PostgreSQL alike)."""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from app.documents import services
from app.documents.guards import DocumentChangeRefused
from app.documents.models import IssuedDocument
from app.extensions import db


@pytest.fixture
def doc(app, w, failed):
    filed = services.issue(services.inspection_subject(failed), "zh_CN", None, current_app.config,
                           lambda number, issued_at: b"%PDF-1.7 filed", own_transaction=False)
    db.session.commit()
    return filed


def _still_there(doc_id: int) -> bytes:
    with db.engine.connect() as conn:
        return conn.scalar(select(IssuedDocument.pdf).where(IssuedDocument.id == doc_id))


def test_the_orm_refuses_deleting_or_changing_a_document(doc):
    db.session.delete(doc)
    with pytest.raises(DocumentChangeRefused):
        db.session.flush()
    db.session.rollback()
    doc = db.session.get(IssuedDocument, doc.id)
    doc.pdf = b"%PDF-1.7 forged"
    with pytest.raises(DocumentChangeRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DocumentChangeRefused):
        db.session.execute(delete(IssuedDocument))
    with pytest.raises(DocumentChangeRefused):
        db.session.execute(update(IssuedDocument).values(sha256="0" * 64))
    db.session.rollback()
    assert _still_there(doc.id) == b"%PDF-1.7 filed"


@pytest.mark.parametrize("statement", [
    "DELETE FROM issued_documents",
    "UPDATE issued_documents SET sha256 = number",
    "UPDATE issued_documents SET issued_by_id = NULL",
])
def test_the_database_refuses_any_client(doc, statement):
    # Past the ORM: plain SQL on a connection of its own, as psql or sqlite3 would send it.
    with pytest.raises(DBAPIError, match="never changed or deleted"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert _still_there(doc.id) == b"%PDF-1.7 filed"


def test_a_database_built_by_migrations_refuses_too(migrated_app):
    """Migration 0015 installs the same triggers as create_all, on SQLite and PostgreSQL."""
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO issued_documents (number, kind, issue_key, language, issued_at, sha256, byte_size, pdf) "
            "VALUES ('N-1', 'inspection_report', 'k', 'zh_CN', CURRENT_TIMESTAMP, 's', 4, :pdf)"), {"pdf": b"%PDF"})
    for statement in ("DELETE FROM issued_documents", "UPDATE issued_documents SET number = 'N-2'"):
        with pytest.raises(DBAPIError, match="never changed or deleted"):
            with db.engine.begin() as conn:
                conn.execute(text(statement))
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT number FROM issued_documents")) == "N-1"

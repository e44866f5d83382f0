"""Inspections are kept on file (art. 28) and never deleted (art. 30): by the ORM and by the database."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.inspections.models import Inspection, InspectionAnswer, InspectionDeletionRefused
from tests.factories.inspections import make_inspection, make_small_world


def test_an_inspection_and_its_answers_are_never_deleted_nor_rewritten(app):
    w = make_small_world()
    inspection, _photo = make_inspection(w.inspector_a, w.lab_a, w.full)
    db.session.delete(inspection)
    with pytest.raises(InspectionDeletionRefused):
        db.session.flush()
    db.session.rollback()
    answer = db.session.scalars(select(InspectionAnswer)).first()
    answer.note = "rewritten"
    with pytest.raises(InspectionDeletionRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(InspectionDeletionRefused):
        db.session.execute(delete(Inspection))
    db.session.rollback()
    for table in ("inspection_answers", "inspections"):
        with pytest.raises(DBAPIError, match="never deleted"):
            with db.engine.begin() as conn:
                conn.execute(text(f"DELETE FROM {table}"))
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1

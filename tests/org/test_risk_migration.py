"""Migration 0011: labs get empty risk columns (not graded, no re-grade pending), the assessments'
history refuses DELETE in the database (art. 30), and going back keeps the labs."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from tests.test_migrations import _app_migrated_to

_FILE = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0011_lab_risk_grade.py"
_spec = importlib.util.spec_from_file_location("migration_0011", _FILE)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
BEFORE = _module.down_revision  # whatever the revisions are chained after


def test_0011_leaves_labs_ungraded_guards_the_history_and_goes_back(tmp_path):
    for _app in _app_migrated_to(tmp_path, BEFORE):
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO colleges (code, name, kind, active) VALUES ('c', 'c', 'college', true)"))
            conn.execute(text(
                "INSERT INTO labs (code, name, building, floor, room, college_id, category, hazard_tags, phone, "
                "active, qr_token, created_at) VALUES ('l', 'l', '', '', '', 1, 'chemistry', '[]', '', true, 't', "
                "CURRENT_TIMESTAMP)"))
        upgrade(revision="0011")
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT risk_level, risk_assessed_at, risk_assessed_by_id, risk_answers, "
                                    "risk_reassess FROM labs")).one()
        assert tuple(row) == (None, None, None, None, False)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO lab_risk_assessments (lab_id, risk_level, rule_id, reason, reason_en, matched, answers, "
                "category, hazard_tags, rules_hash, assessed_at) VALUES (1, 'III', 'iii-chemistry-biology', 'r', "
                "NULL, '[]', '{}', 'chemistry', '[]', 'h', CURRENT_TIMESTAMP)"))
        with pytest.raises(DBAPIError, match="never deleted"):
            with db.engine.begin() as conn:
                conn.execute(text("DELETE FROM lab_risk_assessments"))
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT code, category FROM labs")).all() == [("l", "chemistry")]

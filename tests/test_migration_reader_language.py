"""The reader's-language migration on a database that already holds tickets: a ticket opened from a
checklist item gets the item's English text; one typed by hand keeps a single title."""
from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.test_migrations import _fresh_url

ROWS = [
    "INSERT INTO colleges (code, name, kind, active) VALUES ('c', '化学学院', 'college', true)",
    "INSERT INTO labs (code, name, building, floor, room, college_id, category, hazard_tags, phone, active, "
    "qr_token, created_at) VALUES ('l', '实验室', '', '', '', 1, 'general', '[]', '', true, 't', CURRENT_TIMESTAMP)",
    "INSERT INTO checklists (key, kind, title, title_en) VALUES ('k', 'full', '检查表', 'List')",
    "INSERT INTO checklist_versions (checklist_id, number, content_hash, title, title_en, source_file, loaded_at) "
    "VALUES (1, 1, 'h', '检查表', 'List', 'k.toml', CURRENT_TIMESTAMP)",
    "INSERT INTO checklist_items (version_id, item_key, position, article, text, text_en, categories, hazard_tags, "
    "severity, photo_required) VALUES (1, 'i', 1, '23', '灭火器在位', 'Extinguishers in place', '[]', '[]', "
    "'general', false)",
    "INSERT INTO rectification_tickets (lab_id, item_id, article, title, description, severity, state, level, "
    "deadline, cannot_fix, interim_measures, created_at, updated_at, version) VALUES (1, 1, '23', '灭火器在位', '', "
    "'general', 'open', 'lab', CURRENT_TIMESTAMP, false, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
    "INSERT INTO rectification_tickets (lab_id, article, title, description, severity, state, level, "
    "deadline, cannot_fix, interim_measures, created_at, updated_at, version) VALUES (1, '24(6)', '饭盒', '', "
    "'general', 'open', 'lab', CURRENT_TIMESTAMP, false, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
]


def test_existing_tickets_get_their_items_english_text(tmp_path):
    uri, cleanup = _fresh_url(tmp_path)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=str(tmp_path / "i"))
    try:
        with app.app_context():
            upgrade(revision="0004")
            with db.engine.begin() as conn:
                for row in ROWS:
                    conn.execute(text(row))
            upgrade()
            with db.engine.connect() as conn:
                titles = conn.execute(text("SELECT title, title_en FROM rectification_tickets ORDER BY id")).all()
            assert [tuple(t) for t in titles] == [("灭火器在位", "Extinguishers in place"), ("饭盒", None)]
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

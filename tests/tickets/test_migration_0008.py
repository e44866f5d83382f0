"""Migration 0008 on rows that exist: event photos keep their photos (now by UUID, in their order),
the history still refuses DELETE, and events gain client_uuid (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from tests.test_migrations import _app_migrated_to

U1, U2, U3 = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
              "33333333-3333-4333-8333-333333333333")


@pytest.fixture
def app_at_0007(tmp_path):
    yield from _app_migrated_to(tmp_path, "0007")


def test_0008_turns_photo_ids_into_uuids_in_order(app_at_0007):
    rows = [
        "INSERT INTO colleges (id, code, name, kind, active) VALUES (1, 'c', 'c', 'college', true)",
        "INSERT INTO labs (id, code, name, building, floor, room, college_id, category, hazard_tags, phone, "
        "active, qr_token, created_at) VALUES (1, 'l', 'l', '', '', '', 1, 'general', '[]', '', true, 't', "
        "CURRENT_TIMESTAMP)",
        *[f"INSERT INTO photos (id, uuid, sha256, media_type, byte_size, width, height, original_key, display_key, "
          f"thumb_key, uploaded_at) VALUES ({i}, '{u}', 's{i}', 'image/jpeg', 1, 1, 1, 'o{i}', 'd{i}', 't{i}', "
          f"CURRENT_TIMESTAMP)" for i, u in ((1, U1), (2, U2), (3, U3))],
        "INSERT INTO rectification_tickets (id, lab_id, article, title, description, severity, state, level, "
        "deadline, cannot_fix, interim_measures, created_at, updated_at, version) VALUES (1, 1, '23', 't', '', "
        "'general', 'fix_submitted', 'lab', CURRENT_TIMESTAMP, false, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 3)",
        "INSERT INTO ticket_events (id, ticket_id, kind, to_state, to_level, note, created_at) VALUES "
        "(1, 1, 'submit_fix', 'fix_submitted', 'lab', 'a', CURRENT_TIMESTAMP), "
        "(2, 1, 'submit_fix', 'fix_submitted', 'lab', 'b', CURRENT_TIMESTAMP)",
        # Event 1's photos were 3 then 1 (read in id order); event 2 has photo 2.
        "INSERT INTO ticket_event_photos (id, event_id, photo_id) VALUES (10, 1, 3), (11, 2, 2), (12, 1, 1)",
    ]
    with db.engine.begin() as conn:
        for row in rows:
            conn.execute(text(row))
    upgrade()
    with db.engine.connect() as conn:
        got = conn.execute(text(
            "SELECT id, event_id, photo_uuid, position FROM ticket_event_photos ORDER BY id")).all()
        assert conn.scalar(text("SELECT count(*) FROM ticket_events WHERE client_uuid IS NULL")) == 2
    assert [tuple(r) for r in got] == [(10, 1, U3, 0), (11, 2, U2, 0), (12, 1, U1, 1)]
    with pytest.raises(DBAPIError, match="never deleted"):
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM ticket_event_photos"))
    with db.engine.begin() as conn:  # a photo still on its way can be referred to now
        conn.execute(text("INSERT INTO ticket_event_photos (event_id, photo_uuid, position) "
                          "VALUES (2, '44444444-4444-4444-8444-444444444444', 1)"))
        conn.execute(text(f"UPDATE ticket_events SET client_uuid = '{U1}' WHERE id = 1"))
    with pytest.raises(DBAPIError):
        with db.engine.begin() as conn:
            conn.execute(text(f"UPDATE ticket_events SET client_uuid = '{U1}' WHERE id = 2"))

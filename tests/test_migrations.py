"""`flask db upgrade` builds the schema from nothing, and it matches the models exactly."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.extensions import db


def _fresh_url(tmp_path):
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}", None
    url = make_url(pg).set(drivername="postgresql+psycopg")
    name = f"labsafe_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), (admin, name)


def _app_migrated_to(tmp_path, revision: str):
    """An app on a brand-new database built only by `flask db upgrade` (to ``revision``), dropped after."""
    uri, cleanup = _fresh_url(tmp_path)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=str(tmp_path / "i"))
    try:
        with app.app_context():
            upgrade(revision=revision)
            yield app
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def migrated_app(tmp_path):
    """An app on a brand-new database built only by `flask db upgrade`."""
    yield from _app_migrated_to(tmp_path, "head")


def test_migrations_build_the_models_schema(migrated_app):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


@pytest.mark.parametrize("table", ["rectification_tickets", "ticket_events"])
def test_migrated_database_refuses_deleting_tickets_and_their_history(migrated_app, table):
    """Art. 30: on a database built by migrations, SQLite or PostgreSQL, DELETE on a ticket or its
    history is refused by the database itself (a row trigger), and the rows stay."""
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO colleges (code, name, kind, active) VALUES ('c', 'c', 'college', true)"))
        conn.execute(text(
            "INSERT INTO labs (code, name, building, floor, room, college_id, category, hazard_tags, phone, "
            "active, qr_token, created_at) VALUES ('l', 'l', '', '', '', 1, 'general', '[]', '', true, 't', "
            "CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO rectification_tickets (lab_id, article, title, description, severity, state, level, "
            "deadline, cannot_fix, interim_measures, created_at, updated_at, version) "
            "VALUES (1, '23', 't', '', 'general', 'open', 'lab', CURRENT_TIMESTAMP, false, '', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP, 1)"))
        conn.execute(text(
            "INSERT INTO ticket_events (ticket_id, kind, to_state, to_level, note, created_at) "
            "VALUES (1, 'created', 'open', 'lab', '', CURRENT_TIMESTAMP)"))
    with pytest.raises(DBAPIError, match="never deleted"):
        with db.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {table}"))
    with db.engine.connect() as conn:
        assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 1


def test_every_kept_table_has_its_delete_trigger_on_a_migrated_database(migrated_app):
    """Art. 30: each table app.db.kept guards (tickets, inspections, rounds, risk history, ...) is
    guarded by the database too once migrations built it, not only by create_all."""
    from app.db.kept import KEPT_TABLES

    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            names = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
        else:
            names = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert KEPT_TABLES and {f"{t}_no_delete" for t in KEPT_TABLES} <= names, sorted(
        {f"{t}_no_delete" for t in KEPT_TABLES} - names)


@pytest.fixture
def app_at_0004(tmp_path):
    """An app on a new database migrated only up to 0004 (before dated lab activity and the reader's
    language): later migrations are then run on rows that already exist."""
    yield from _app_migrated_to(tmp_path, "0004")


def test_0006_dates_existing_labs_and_event_deadlines(app_at_0004):
    """Active labs: active since created. Inactive: until their last recorded activity, or never.
    Events: the one that set a ticket's current level carries its deadline; earlier ones the rule's."""
    from datetime import datetime

    sql = [
        "INSERT INTO colleges (id, code, name, kind, active) VALUES (1, 'c', 'c', 'college', true)",
        *[f"INSERT INTO labs (id, code, name, building, floor, room, college_id, category, hazard_tags, phone, "
          f"active, qr_token, created_at) VALUES ({i}, 'l{i}', 'l', '', '', '', 1, 'general', '[]', '', {act}, "
          f"'t{i}', '2026-01-01 00:00:00')" for i, act in ((1, "true"), (2, "false"), (3, "false"))],
        "INSERT INTO missed_daily_checks (lab_id, day, flagged_at) VALUES (2, '2026-05-01', '2026-05-01 16:30:00')",
        # A general ticket of lab 2 created Mar 1, escalated by the nightly job for Mar 8, then by hand to the
        # school on Mar 10; its deadline is now Oct 14.
        "INSERT INTO rectification_tickets (id, lab_id, article, title, description, severity, state, level, deadline, "
        "cannot_fix, interim_measures, created_at, updated_at, version) VALUES (1, 2, '23', 't', '', 'general', "
        "'open', 'school', '2026-10-14 16:00:00', false, '', '2026-03-01 10:00:00', '2026-03-01 10:00:00', 3)",
        "INSERT INTO ticket_events (id, ticket_id, kind, from_state, to_state, from_level, to_level, note, created_at) "
        "VALUES (1, 1, 'created', NULL, 'open', NULL, 'lab', '', '2026-03-01 10:00:00'), "
        "(2, 1, 'start_fix', 'open', 'fixing', 'lab', 'lab', '', '2026-03-02 10:00:00'), "
        "(3, 1, 'escalate', 'fixing', 'fixing', 'lab', 'college', "
        "'Deadline passed: escalated by the nightly job (as of the end of 2026-03-08).', '2026-03-08 16:30:00'), "
        "(4, 1, 'escalate', 'fixing', 'fixing', 'college', 'school', 'why', '2026-03-10 02:00:00')",
    ]
    with db.engine.begin() as conn:
        for s in sql:
            conn.execute(text(s))
    upgrade()
    with db.engine.connect() as conn:
        periods = conn.execute(text("SELECT lab_id, start_at, end_at FROM lab_active_periods ORDER BY lab_id")).all()
        deadlines = dict(conn.execute(text("SELECT id, to_deadline FROM ticket_events")).all())
    as_dt = lambda v: v if v is None or isinstance(v, datetime) else datetime.fromisoformat(v)  # noqa: E731
    assert [(p[0], p[1], as_dt(p[2])) for p in periods] == [
        (1, None, None),  # active: since created
        (2, None, datetime(2026, 5, 1, 16, 30, 1)),  # inactive: until its last activity (its ticket is older)
    ]  # lab 3: inactive, no activity: no period
    assert {k: as_dt(v) for k, v in deadlines.items()} == {
        1: datetime(2026, 3, 8, 10, 0),  # created + 7 days (general, lab)
        2: None,
        3: datetime(2026, 3, 13, 16, 0),  # end of Mar 8 (school time, 16:00 UTC) + 5 days (general, college)
        4: datetime(2026, 10, 14, 16, 0),  # the ticket's deadline now (set by its latest level change)
    }


READER_LANGUAGE_ROWS = [
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


def test_0007_gives_existing_tickets_their_items_english_text(app_at_0004):
    """A ticket opened from a checklist item gets the item's English text; one typed by hand keeps a
    single title."""
    with db.engine.begin() as conn:
        for row in READER_LANGUAGE_ROWS:
            conn.execute(text(row))
    upgrade()
    with db.engine.connect() as conn:
        titles = conn.execute(text("SELECT title, title_en FROM rectification_tickets ORDER BY id")).all()
    assert [tuple(t) for t in titles] == [("灭火器在位", "Extinguishers in place"), ("饭盒", None)]


def test_0009_gives_photos_empty_camera_original_columns_and_goes_back(tmp_path):
    """Photos stored before 0009 have no camera original (all new columns null); 0009 down keeps them."""
    from flask_migrate import downgrade

    for _app in _app_migrated_to(tmp_path, "0008"):
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO photos (uuid, sha256, media_type, byte_size, width, height, original_key, display_key,"
                " thumb_key, uploaded_at) VALUES ('7d1c2a52-0000-4000-8000-000000000009', 'a', 'image/jpeg', 1, 1, 1,"
                " 'o', 'd', 't', CURRENT_TIMESTAMP)"
            ))
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text(
                "SELECT uuid, camera_original_key, camera_original_sha256, camera_original_bytes,"
                " camera_original_type, camera_original_at FROM photos"
            )).one()
        assert tuple(row) == ("7d1c2a52-0000-4000-8000-000000000009", None, None, None, None, None)
        downgrade(revision="0008")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT uuid, original_key FROM photos")).all() == [
                ("7d1c2a52-0000-4000-8000-000000000009", "o")]

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


@pytest.fixture
def migrated_app(tmp_path):
    """An app on a brand-new database built only by `flask db upgrade`."""
    uri, cleanup = _fresh_url(tmp_path)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=str(tmp_path / "i"))
    try:
        with app.app_context():
            upgrade()
            yield app
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


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

"""`flask db upgrade` builds the schema from nothing, and it matches the models exactly."""
from __future__ import annotations

import os
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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


def test_migrations_build_the_models_schema(tmp_path):
    uri, cleanup = _fresh_url(tmp_path)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=str(tmp_path / "i"))
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(ctx, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            db.engine.dispose()
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

"""Test fixtures: an app and a database per test.

SQLite always (a fresh file per test). When TEST_DATABASE_URL is set, PostgreSQL: one database
per test session (a unique name, so parallel runs don't collide), tables created once and
emptied after every test.
"""
from __future__ import annotations

import os
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """None for SQLite (a file per test), else a PostgreSQL database for this session."""
    if not PG_URL:
        yield None
        return
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"labsafe_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    test_url = url.set(database=name).render_as_string(hide_password=False)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=test_url, INSTANCE_PATH=str(tmp_path_factory.mktemp("pg")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class CsrfClient(FlaskClient):
    """A test client that behaves like our JavaScript: it sends X-CSRFToken on unsafe requests.

    CSRF stays on in tests; pass headers={"X-CSRFToken": ""} to send none.
    """

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if method in UNSAFE and "X-CSRFToken" not in headers:
            with self.application.app_context():
                token = super().open("/api/csrf", method="GET").get_json()["csrf_token"]
            headers["X-CSRFToken"] = token
        elif headers.get("X-CSRFToken") == "":
            headers.pop("X-CSRFToken")
        kwargs["headers"] = headers
        # A fresh app context per request, as in production: otherwise `g` (current_user, the
        # CSRF token) and the database session would leak from the test into the request.
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _app_on(database_url, tmp_path):
    """An app on PostgreSQL (database_url) or on a fresh SQLite file (None), inside its context."""
    overrides = {"INSTANCE_PATH": str(tmp_path / "instance")}
    if database_url:
        overrides["SQLALCHEMY_DATABASE_URI"] = database_url
    else:
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app("testing", **overrides)
    app.test_client_class = CsrfClient
    with app.app_context():
        if not database_url:
            db.create_all()
        yield app
        db.session.remove()
        if database_url:
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    yield from _app_on(database_url, tmp_path)


@pytest.fixture
def sqlite_app(tmp_path):
    """Always SQLite, in the PostgreSQL pass too: for what only SQLite has (its write lock and the
    writers' queue in front of it), tested instead of skipped."""
    yield from _app_on(None, tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def is_postgres(database_url):
    return database_url is not None

"""/healthz and /readyz: the process, the database and its migrations, the photo store."""
from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.monitoring import probes


@pytest.fixture
def alembic_at(app):
    """Put the test database at a revision (the tests' schema comes from create_all, unstamped);
    the table is dropped again after the test (PostgreSQL's emptying knows only the models' tables)."""

    def stamp(*revisions):
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("DELETE FROM alembic_version"))
            for rev in revisions:
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": rev})

    yield stamp
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_healthz_answers_without_the_database(app, client):
    seen = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        resp = client.get("/healthz")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert seen == []  # no statement: a database outage must not make the load balancer kill workers


def test_readyz_is_ready_at_head(app, client, alembic_at):
    alembic_at(*probes.migration_heads())
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"status": "ready", "checks": {"database": "ok", "photo_store": "ok"}}
    assert resp.headers["Cache-Control"] == "no-store"


def test_readyz_fails_when_migrations_are_behind(app, client, alembic_at):
    alembic_at("0016")
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "not_ready"
    assert "migrations behind: database at 0016" in body["reason"]
    assert "flask db upgrade" in body["checks"]["database"]
    assert body["checks"]["photo_store"] == "ok"


def test_readyz_fails_on_a_database_never_migrated(app, client):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert "never migrated" in resp.get_json()["reason"]


def test_a_database_newer_than_the_code_stays_ready(app, client, alembic_at):
    # A rolling upgrade: the new release migrated first; this host serves until it is upgraded too.
    alembic_at("9999_from_a_newer_release")
    assert client.get("/readyz").status_code == 200


def _read_only(path) -> tuple:
    """Make ``path`` refuse writes, and the way back. Root ignores permission bits (the CI container runs
    as root), so for root the directory is made immutable (chattr +i: EPERM for anyone)."""
    if os.geteuid() != 0:
        path.chmod(0o500)
        return lambda: path.chmod(0o700)
    subprocess.run(["chattr", "+i", str(path)], check=True)
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_readyz_fails_when_the_photo_store_is_not_writable(app, client, alembic_at, tmp_path):
    alembic_at(*probes.migration_heads())
    store = tmp_path / "ro-store"
    store.mkdir()
    undo = _read_only(store)
    app.config["PHOTO_STORE"] = str(store)
    try:
        resp = client.get("/readyz")
    finally:
        undo()
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["photo_store"].startswith("photo store not writable: PermissionError")
    assert body["reason"] == body["checks"]["photo_store"]


def test_readyz_fails_when_the_photo_store_is_a_file(app, client, alembic_at, tmp_path):
    # Root (the CI container) ignores permissions: a path that cannot be a directory fails for anyone.
    alembic_at(*probes.migration_heads())
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app.config["PHOTO_STORE"] = str(blocker)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["photo_store"].startswith("photo store not writable:")
    assert blocker.read_text() == "x"


def test_readyz_leaves_nothing_in_the_store(app, client, alembic_at):
    alembic_at(*probes.migration_heads())
    assert client.get("/readyz").status_code == 200
    assert os.listdir(os.path.join(app.config["PHOTO_STORE"], ".tmp")) == []


def test_readyz_says_when_the_database_is_unreachable(app, client):
    from sqlalchemy import create_engine

    real = db.engine
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    db._app_engines[app][None] = broken  # Flask-SQLAlchemy's engine for this app
    try:
        resp = client.get("/readyz")
    finally:
        db._app_engines[app][None] = real
        broken.dispose()
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"].startswith("database unreachable: OperationalError")


def test_a_store_that_checks_itself_is_asked(app, monkeypatch):
    class ObjectStore:  # e.g. an S3 bucket: no directory to write a temporary file in
        def __init__(self, fail):
            self.fail = fail

        def check_writable(self):
            if self.fail:
                raise PermissionError(13, "AccessDenied on PutObject")

    monkeypatch.setattr(probes, "storage_for", lambda config: ObjectStore(fail=False))
    assert probes.check_photo_store(app.config) is None
    monkeypatch.setattr(probes, "storage_for", lambda config: ObjectStore(fail=True))
    assert probes.check_photo_store(app.config) == (
        "photo store not writable: PermissionError: AccessDenied on PutObject")

"""When a writing request takes SQLite's write lock (app/db/transactions.py): at its first statement by
default, at its first write for a view marked write_lock_at_first_write (the inspection submit)."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.db import write_lock_at_first_write
from app.extensions import db
from app.org.models import College
from tests.factories.org import make_college


def _routes(app):
    def read_then_write(code):
        names = list(db.session.scalars(select(College.code)))
        db.session.add(College(code=code, name="Written by a POST"))
        db.session.commit()
        return {"read": names}

    @app.post("/_test/locked-from-the-start")
    def _default():
        return read_then_write("DEFAULT")

    @app.post("/_test/locked-at-first-write")
    @write_lock_at_first_write
    def _late():
        return read_then_write("LATE")


@pytest.fixture
def app_with_routes(app):
    _routes(app)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def statements(app_with_routes, is_postgres):
    """Each statement the app sends, with whether SQLite had a transaction open when it ran (the lock:
    every writing transaction on SQLite here begins IMMEDIATE)."""
    seen: list[tuple[str, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        in_tx = bool(getattr(conn.connection.dbapi_connection, "in_transaction", True))
        seen.append((statement.split()[0].upper(), in_tx))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)  # after the app's own listener
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_writing_request_locks_at_its_first_statement_by_default(app_with_routes, statements, is_postgres):
    make_college(code="C1")
    db.session.commit()
    statements.clear()
    response = app_with_routes.test_client().post("/_test/locked-from-the-start")
    assert response.status_code == 200 and response.get_json()["read"] == ["C1"]
    if is_postgres:
        assert [kind for kind, _ in statements] == ["SELECT", "INSERT"]
    else:
        # BEGIN IMMEDIATE before the first statement: the SELECT already held the write lock.
        assert statements == [("BEGIN", False), ("SELECT", True), ("INSERT", True)]


def test_a_marked_view_locks_at_its_first_write_only(app_with_routes, statements, is_postgres):
    make_college(code="C1")
    db.session.commit()
    statements.clear()
    response = app_with_routes.test_client().post("/_test/locked-at-first-write")
    assert response.status_code == 200 and response.get_json()["read"] == ["C1"]
    assert [kind for kind, _ in statements] == ["SELECT", "INSERT"]
    if not is_postgres:
        # The read ran outside a transaction; BEGIN IMMEDIATE came just before the INSERT.
        assert statements == [("SELECT", False), ("INSERT", True)]
    db.session.remove()
    assert db.session.scalar(select(College.name).where(College.code == "LATE")) == "Written by a POST"


def test_the_inspection_submit_is_marked(app):
    from app.db.transactions import _MARK

    assert getattr(app.view_functions["inspections_api.submit"], _MARK, False)


@pytest.mark.parametrize("endpoint", ["photos_api.upload", "tickets.ticket_action", "auth_api.login", "auth.login",
                                      "auth.password", "auth_api.change_password",
                                      "org_admin.import_upload"])
def test_slow_writers_are_marked(app, endpoint):
    """Decoding a photo (~150 ms) or hashing a password (~130 ms each) must not hold SQLite's write lock
    (bench.write_contention)."""
    from app.db.transactions import _MARK

    assert getattr(app.view_functions[endpoint], _MARK, False)


# ---- SQLite's connections ------------------------------------------------------------------

def test_sqlite_connections_enforce_foreign_keys_and_use_wal(sqlite_app):
    """Every pooled connection: references are checked, and readers never wait for the writer (WAL)."""
    connection = db.session.connection()
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_writer_waits_for_another_processs_writer_then_goes(sqlite_app):
    """Another process holds SQLite's write lock: a request's writer waits for it (busy_timeout)
    instead of failing with "database is locked", and goes as soon as it is let go."""
    import sqlite3
    import threading

    _routes(sqlite_app)
    sqlite_app.config["WTF_CSRF_ENABLED"] = False
    other_process = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    answered = []
    writer = threading.Thread(target=lambda: answered.append(
        sqlite_app.test_client().post("/_test/locked-at-first-write").status_code))
    try:
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and answered == []  # waiting, not refused
    finally:
        other_process.execute("COMMIT")
        other_process.close()
    writer.join(10)
    assert answered == [200]
    db.session.remove()
    assert db.session.scalar(select(College.name).where(College.code == "LATE")) == "Written by a POST"

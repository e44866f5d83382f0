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
    return _with_routes(app)


def _with_routes(app):
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
    (bench.write_contention). A view that stores a photo takes the store's lock before the database's, as
    the upload API does, so the two never wait on each other in opposite orders."""
    from app.db.transactions import _MARK

    assert getattr(app.view_functions[endpoint], _MARK, False)


# ---- the writers' queue (SQLite) ---------------------------------------------------------------

# The queue stands in front of SQLite's write lock only (PostgreSQL has row locks): these tests run
# on a SQLite app in the PostgreSQL pass too.

@pytest.fixture
def sqlite_app_with_routes(sqlite_app):
    return _with_routes(sqlite_app)


def _queue_file() -> str:
    """The writers' lock file of the app in context."""
    return f"{db.engine.url.database}-writers.lock"


def test_a_writer_waits_for_another_workers_turn_then_goes(sqlite_app_with_routes):
    """Another worker's writer holds the turn (its flock): a request's writer waits for it instead of
    meeting SQLite's lock, and goes as soon as it is let go."""
    import fcntl
    import os
    import threading

    client = sqlite_app_with_routes.test_client()
    assert client.post("/_test/locked-from-the-start").status_code == 200  # the lock file exists now
    other_worker = os.open(_queue_file(), os.O_RDWR)  # another open file: as another process
    fcntl.flock(other_worker, fcntl.LOCK_EX)
    answered = []
    writer = threading.Thread(target=lambda: answered.append(
        sqlite_app_with_routes.test_client().post("/_test/locked-at-first-write").status_code))
    try:
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and answered == []  # queued, not refused
    finally:
        fcntl.flock(other_worker, fcntl.LOCK_UN)
        os.close(other_worker)
    writer.join(10)
    assert answered == [200]
    db.session.remove()
    assert db.session.scalar(select(College.name).where(College.code == "LATE")) == "Written by a POST"


def test_the_turn_ends_with_the_transaction(sqlite_app_with_routes):
    """Committed or failed, a writing request lets the next writer go: the turn is free after it."""
    import fcntl
    import os

    def turn_is_free() -> bool:
        probe = os.open(_queue_file(), os.O_RDWR)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(probe)

    client = sqlite_app_with_routes.test_client()
    assert client.post("/_test/locked-at-first-write").status_code == 200
    assert turn_is_free()
    # The same code again: the unique code refuses it mid-transaction (an unhandled error here).
    assert client.post("/_test/locked-at-first-write").status_code == 500
    assert turn_is_free()
    assert client.post("/_test/locked-from-the-start").status_code == 200
    assert turn_is_free()


def test_the_photo_store_lock_is_never_taken_after_the_write_turn(sqlite_app):
    """Lock order: the store's, then the database's. The reverse could leave two workers waiting for
    each other forever, so it is refused loudly instead."""
    from app.photos.storage import storage_for

    seen = {}

    @sqlite_app.post("/_test/store-after-write")
    def _inverted():
        db.session.add(College(code="INV", name="Not written"))
        db.session.flush()  # BEGIN IMMEDIATE: this request is the writer now
        try:
            with storage_for(sqlite_app.config).exclusive():
                seen["entered"] = True
        except RuntimeError as err:
            seen["refused"] = str(err)
        db.session.rollback()
        return {}

    sqlite_app.config["WTF_CSRF_ENABLED"] = False
    assert sqlite_app.test_client().post("/_test/store-after-write").status_code == 200
    assert "entered" not in seen and "before the database's write lock" in seen["refused"]


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(sqlite_app):
    """Every pooled connection, the queued kind included: references are checked, and readers never
    wait for the writer (WAL)."""
    from app.db.transactions import QueuedConnection

    connection = db.session.connection()
    assert isinstance(connection.connection.dbapi_connection, QueuedConnection)
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_connection_dropped_mid_transaction_frees_the_turn(sqlite_app, tmp_path):
    """A leaked connection (garbage-collected, never closed) must not keep the writers' queue."""
    import gc

    from app.db.transactions import QueuedConnection, holds_a_write_turn

    leaked = QueuedConnection(str(tmp_path / "leak.sqlite3"))
    leaked.begin_immediate(leaked.execute)
    assert holds_a_write_turn()
    del leaked
    gc.collect()
    assert not holds_a_write_turn()
    again = QueuedConnection(str(tmp_path / "leak.sqlite3"))  # the next writer gets the turn at once
    again.begin_immediate(again.execute)
    again.rollback()
    again.close()

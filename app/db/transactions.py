"""Transactions by request kind: how a request's transaction starts on each database.

SQLite: a writing request takes the write lock when its transaction starts, which is its first
statement (usually the signed-in user's SELECT, before the view runs). Under load (8 writer
threads) about 1 submit in 650 failed with "database is locked": a transaction that holds a read
snapshot cannot upgrade to a write once another writer has committed, and SQLite says so at once
(busy_timeout cannot wait that out). BEGIN IMMEDIATE waits for the write lock up front (up to
busy_timeout) instead; pysqlite then adds no BEGIN of its own. That serialises the whole request
with every other writer, which read-then-write code relies on (the officer count before a role is
removed, art. 10(3); a photo file's cleanup after a lost race). Reads (GET/HEAD/OPTIONS) and work
outside a request (CLI, nightly jobs, tests' own sessions) keep pysqlite's default (BEGIN before
the first write), so under WAL readers never queue behind the write lock and see the latest commit.

A view whose writes are settled by the database itself (an idempotent insert guarded by a unique
key) may mark itself ``write_lock_at_first_write``: its reads then run outside a transaction, as
they do on PostgreSQL under READ COMMITTED, and BEGIN IMMEDIATE is sent just before its first
INSERT, UPDATE or DELETE. The lock is then held for the inserts and the commit only, not for the
parsing, the policy and the validation before them: an inspection submit held it for its whole
~4 ms of CPU, and eight submitting threads queued on it.

A writer that finds the lock taken waits in SQLite's busy handler (up to busy_timeout, 5 s). At a
college's peak (50 inspectors submitting and reading at once, bench.sqlite_peak) that wait costs
nothing a user feels and no request fails, so writers take no turn of their own before it.

PostgreSQL: a reading request runs its SELECTs in autocommit. Under READ COMMITTED every statement
sees its own snapshot whether or not it is inside a transaction, so the answers are the same, and
each read request saves the BEGIN and ROLLBACK round trips (a one-query request went from 3 round
trips to 1). psycopg's rollback() is a no-op outside a transaction; the pool's checkin hook turns
autocommit off again. A read request must not write: a flush in one fails loudly, on both databases.
"""
from __future__ import annotations

import sqlite3

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import Pool

from app.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MARK = "labsafe_write_lock_at_first_write"  # on a view function
# On g, set by _mark_request_kind for dispatched requests only (not a test's or a CLI's context).
_READ_REQUEST = "labsafe_read_request"
_LOCK_AT_FIRST_WRITE = "labsafe_lock_at_first_write"
_READ_AUTOCOMMIT = "labsafe_read_autocommit"  # on the pool record: seen at checkin
_BUSY_TIMEOUT_MS = 5000
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "WITH")  # WITH: may be a write; lock early


def write_lock_at_first_write(view):
    """Mark a view whose writes need no lock held over its reads (see the module's docstring)."""
    setattr(view, _MARK, True)
    return view


def writes_on_get(view):
    """Mark a GET view that must write (a protocol's redirect back, e.g. the campus login's callback
    with its ticket, app/auth/sso_views.py): its GET runs as a writing request. Combine with
    ``write_lock_at_first_write`` so SQLite's lock waits until the first write."""
    setattr(view, _WRITES_ON_GET, True)
    return view


_WRITES_ON_GET = "labsafe_writes_on_get"  # on a view function


def _mark_request_kind():
    view = current_app.view_functions.get(request.endpoint)
    setattr(g, _READ_REQUEST, request.method in READ_METHODS and not getattr(view, _WRITES_ON_GET, False))
    setattr(g, _LOCK_AT_FIRST_WRITE, getattr(view, _MARK, False))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # SQLite: enforce foreign keys, WAL so readers don't block the writer.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cur.close()


@event.listens_for(Engine, "begin")
def _begin_by_request_kind(conn):
    if conn.dialect.name == "sqlite":
        if (conn.dialect.driver == "pysqlite" and has_request_context() and request.method not in READ_METHODS
                and not g.get(_LOCK_AT_FIRST_WRITE)):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and g and g.get(_READ_REQUEST):
        dbapi_connection = conn.connection.dbapi_connection
        if not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True
            conn.connection.info[_READ_AUTOCOMMIT] = True


def _lock_before_first_write(conn, cursor, statement, parameters, context, executemany):
    if not has_request_context() or not g.get(_LOCK_AT_FIRST_WRITE):
        return
    if conn.connection.dbapi_connection.in_transaction or not statement.lstrip()[:9].upper().startswith(_WRITES):
        return
    # pysqlite would send a deferred BEGIN here; a deferred transaction cannot wait for the lock
    # once another writer has committed after its snapshot, BEGIN IMMEDIATE waits (busy_timeout).
    cursor.execute("BEGIN IMMEDIATE")


@event.listens_for(Pool, "checkin")
def _end_read_autocommit(dbapi_connection, connection_record):
    if connection_record.info.pop(_READ_AUTOCOMMIT, False) and dbapi_connection is not None:
        dbapi_connection.autocommit = False


@event.listens_for(OrmSession, "before_flush")
def _refuse_writes_in_read_requests(session, flush_context, instances):
    # GET/HEAD/OPTIONS never change data (on PostgreSQL it would land statement by statement,
    # without a transaction): a read request that tries is a bug, refused on both databases.
    if has_request_context() and g.get(_READ_REQUEST):
        raise RuntimeError(f"{request.method} {request.path} tried to write to the database in a read request")


def init_app(app) -> None:
    """Mark each dispatched request's kind first thing; listen for first writes on SQLite engines only."""
    app.before_request_funcs.setdefault(None, []).insert(0, _mark_request_kind)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "before_cursor_execute", _lock_before_first_write)

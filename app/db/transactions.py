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

The writers' queue (SQLite). A writer that finds the lock taken waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10, ... up to 100 ms between tries and never hears the lock being freed:
under eight submitting threads the lock sat free while its waiters slept, and a submit's p99 was
1.2 s. So a request's writer first queues for a lock of our own: a thread lock in its
process, then an flock on a file beside the database across the workers, both handed on by the
kernel the moment the holder lets go; it sends BEGIN IMMEDIATE only at the head of the queue. The
turn belongs to the DBAPI connection (QueuedConnection) and ends with its transaction: commit(),
rollback() or close(). SQLite's lock stays the arbiter: writers outside requests (CLI, nightly job)
do not queue, and a request's writer that meets one waits in the busy handler as before. The flock
wait has no timeout, so nothing may be waited for while holding a turn that a queued writer could
hold: the photo store's lock is taken first (LocalFileStorage.exclusive refuses otherwise).

PostgreSQL: a reading request runs its SELECTs in autocommit. Under READ COMMITTED every statement
sees its own snapshot whether or not it is inside a transaction, so the answers are the same, and
each read request saves the BEGIN and ROLLBACK round trips (a one-query request went from 3 round
trips to 1). psycopg's rollback() is a no-op outside a transaction; the pool's checkin hook turns
autocommit off again. A read request must not write: a flush in one fails loudly, on both databases.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import Pool

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MARK = "labsafe_write_lock_at_first_write"  # on a view function
# On g, set by _mark_request_kind for dispatched requests only (not a test's or a CLI's context).
_READ_REQUEST = "labsafe_read_request"
_LOCK_AT_FIRST_WRITE = "labsafe_lock_at_first_write"
_READ_AUTOCOMMIT = "labsafe_read_autocommit"  # on the pool record: seen at checkin
_BUSY_TIMEOUT_MS = 5000
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "WITH")  # WITH: may be a write; lock early


class WritersQueue:
    """One SQLite database's request writers, one at a time (see the module's docstring)."""

    def __init__(self, database: str):
        self._in_process = threading.Lock()
        # A database in memory lives in one process: the thread lock is the whole queue.
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:") or "mode=memory" in database
        self._lock_file = None if in_memory else f"{os.path.abspath(database)}-writers.lock"
        self._fd: int | None = None  # the lock file, open while this process has the turn
        self.holder: int | None = None  # the thread whose connection has the turn

    def join(self) -> None:
        """Wait to be the only writer among the requests, or raise SQLite's "database is locked"."""
        if not self._in_process.acquire(timeout=_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (timed out waiting for the other writers)")
        try:
            if self._lock_file:
                # Opened per turn (a few µs), closed to let go: no descriptor stays open per
                # database (a test run makes hundreds of databases in one process).
                fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # one thread per process waits here
                except BaseException:
                    os.close(fd)
                    raise
                self._fd = fd
        except BaseException:
            self._in_process.release()
            raise
        self.holder = threading.get_ident()

    def leave(self) -> None:
        self.holder = None
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # releases the flock
        self._in_process.release()


_queues: dict[str, WritersQueue] = {}  # by database file
_queues_lock = threading.Lock()


def _queue_for(database: str) -> WritersQueue:
    with _queues_lock:
        queue = _queues.get(database)
        if queue is None:
            queue = _queues[database] = WritersQueue(database)
        return queue


def holds_a_write_turn() -> bool:
    """Whether this thread's SQLite connection is the writer now (others may be queued behind it)."""
    me = threading.get_ident()
    return any(queue.holder == me for queue in list(_queues.values()))


def _ending_the_turn(method):
    def ended(self):
        try:
            return method(self)
        finally:
            self._end_turn()

    return ended


class QueuedConnection(sqlite3.Connection):
    """pysqlite's connection, which queues among the request writers before BEGIN IMMEDIATE and
    lets the next one go when its transaction ends: commit(), rollback() or close()."""

    _has_turn = False  # a class default: __del__ may run on a connection whose __init__ failed

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._queue = _queue_for(os.fsdecode(database))

    def begin_immediate(self, send) -> None:
        """Join the queue, then take SQLite's write lock with ``send("BEGIN IMMEDIATE")``."""
        if not self._has_turn:
            self._queue.join()
            self._has_turn = True
        try:
            send("BEGIN IMMEDIATE")
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self._queue.leave()

    commit = _ending_the_turn(sqlite3.Connection.commit)
    rollback = _ending_the_turn(sqlite3.Connection.rollback)
    close = _ending_the_turn(sqlite3.Connection.close)

    def __del__(self):
        # Dropped without close() (a leaked connection): its turn must not outlive it, or every
        # writer of this worker would time out from then on.
        self._end_turn()


def write_lock_at_first_write(view):
    """Mark a view whose writes need no lock held over its reads (see the module's docstring)."""
    setattr(view, _MARK, True)
    return view


def _mark_request_kind():
    setattr(g, _READ_REQUEST, request.method in READ_METHODS)
    setattr(g, _LOCK_AT_FIRST_WRITE, getattr(current_app.view_functions.get(request.endpoint), _MARK, False))


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
            conn.connection.dbapi_connection.begin_immediate(conn.exec_driver_sql)
    elif conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and g and g.get(_READ_REQUEST):
        dbapi_connection = conn.connection.dbapi_connection
        if not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True
            conn.connection.info[_READ_AUTOCOMMIT] = True


@event.listens_for(Engine, "do_connect")
def _queued_sqlite_connections(dialect, conn_rec, cargs, cparams):
    if dialect.name == "sqlite" and dialect.driver == "pysqlite":
        cparams["factory"] = QueuedConnection


def _lock_before_first_write(conn, cursor, statement, parameters, context, executemany):
    if not has_request_context() or not g.get(_LOCK_AT_FIRST_WRITE):
        return
    if conn.connection.dbapi_connection.in_transaction or not statement.lstrip()[:9].upper().startswith(_WRITES):
        return
    # pysqlite would send a deferred BEGIN here; a deferred transaction cannot wait for the lock
    # once another writer has committed after its snapshot, BEGIN IMMEDIATE waits (busy_timeout).
    conn.connection.dbapi_connection.begin_immediate(cursor.execute)


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
    from app.extensions import db

    app.before_request_funcs.setdefault(None, []).insert(0, _mark_request_kind)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "before_cursor_execute", _lock_before_first_write)

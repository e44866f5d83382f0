"""How a writing request takes SQLite's write lock.

By default a writing request (POST, PUT, PATCH, DELETE) takes the write lock when its transaction
starts, which is its first statement: usually the signed-in user's SELECT, before the view runs.
That serialises the whole request with every other writer, which is what read-then-write code
relies on (the officer count before a role is removed, a photo file's cleanup after a lost race).

A view whose writes are settled by the database itself (an idempotent insert guarded by a unique
key) may mark itself ``write_lock_at_first_write``: its reads then run outside a transaction, as
they do on PostgreSQL under READ COMMITTED, and BEGIN IMMEDIATE is sent just before its first
INSERT, UPDATE or DELETE. The lock is then held for the inserts and the commit only, not for the
parsing, the policy and the validation before them: an inspection submit held it for its whole
~4 ms of CPU, and eight submitting threads queued on it (issue 8).
"""
from __future__ import annotations

from flask import current_app, g, has_request_context, request
from sqlalchemy import event

_ATTRIBUTE = "labsafe_write_lock_at_first_write"
_PENDING = "labsafe_sqlite_lock_pending"  # on g: this request's first write sends BEGIN IMMEDIATE
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "WITH")


def write_lock_at_first_write(view):
    """Mark a view whose writes need no lock held over its reads (see the module's docstring)."""
    setattr(view, _ATTRIBUTE, True)
    return view


def defers_write_lock() -> bool:
    """Whether the request being served is a marked view's (asked when its transaction begins)."""
    if not has_request_context() or request.endpoint is None:
        return False
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, _ATTRIBUTE, False):
        g.setdefault(_PENDING, True)
        return True
    return False


def _lock_before_first_write(conn, cursor, statement, parameters, context, executemany):
    if not has_request_context() or not g.get(_PENDING):
        return
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection.in_transaction or not statement.lstrip()[:9].upper().startswith(_WRITES):
        return
    # pysqlite would send a deferred BEGIN here; a deferred transaction cannot wait for the lock
    # once another writer has committed after its snapshot, BEGIN IMMEDIATE waits (busy_timeout).
    cursor.execute("BEGIN IMMEDIATE")


def init_app(app) -> None:
    """Listen on the app's SQLite engines only: PostgreSQL needs none of this."""
    from app.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "before_cursor_execute", _lock_before_first_write)

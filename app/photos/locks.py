"""Who may write, reference or delete a stored photo file at a time: decided in the database, so
it holds across every process on every app host.

The store is content-addressed: two uploads of the same bytes share files. Without this, upload A
(its commit failed) or the orphan sweep could delete a file that upload B, on another host, had
just found present and was about to commit a row for: B's evidence would point at nothing. So an
upload holds the locks of its files' keys from before it looks for them until its row is committed
(or its own files are cleaned up again), and a delete happens only under the key's lock, after a
fresh read of the rows: under the lock a deleter sees every row that refers to the file.

PostgreSQL: a session-level advisory lock per key (``pg_advisory_lock``, 64 bits of the SHA-256),
on a connection of its own, so the lock outlives the session's commits and rollbacks inside the
block; keys are locked in ascending order, so two holders never wait on each other in a circle.
Uploads of different photos do not wait for each other; a crashed process's locks go with its
connection. A collision of two keys' 64 bits only makes one wait for the other.

SQLite: the database is one file on one host, so an advisory lock on a file beside it (flock,
``<database>.photo-lock``) is held by every process that can write its rows. One holder at a time
(SQLite has one writer anyway), taken before SQLite's write lock where the code can choose.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.engine import make_url

from app.extensions import db

_LOCK = text(
    "SELECT count(pg_advisory_lock(k)) FROM (SELECT DISTINCT k FROM unnest(:keys) AS k ORDER BY k) AS s"
).bindparams(bindparam("keys", type_=ARRAY(BIGINT)))


def lock_id(key: str) -> int:
    """A storage key's advisory lock: its first 64 bits, as PostgreSQL's signed bigint."""
    n = int(key[:16], 16)
    return n - (1 << 64) if n >= 1 << 63 else n


@contextlib.contextmanager
def holding(config, keys: Iterable[str]) -> Iterator[None]:
    """Hold the locks of these storage keys for the block (see the module's docstring)."""
    keys = sorted(set(keys))
    if db.engine.dialect.name == "postgresql":
        with _advisory(keys):
            yield
    else:
        with _flock(_lock_file(config)):
            yield


@contextlib.contextmanager
def _advisory(keys: list[str]) -> Iterator[None]:
    if not keys:
        yield
        return
    conn = db.engine.connect()
    try:
        conn.execute(_LOCK, {"keys": [lock_id(k) for k in keys]})
        conn.commit()  # session-level locks stay; no transaction stays open on this connection
    except BaseException:
        conn.invalidate()  # closing the server session releases whatever it got
        conn.close()
        raise
    try:
        yield
    finally:
        try:
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
            conn.commit()
        except Exception:  # noqa: BLE001 - a broken connection: dropping it releases the locks
            conn.invalidate()
        finally:
            conn.close()


def _lock_file(config) -> Path:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        return Path(f"{url.database}.photo-lock")
    store = str(config["PHOTO_STORE"])
    return Path(store) / ".lock" if not store.startswith("s3://") else Path(config["INSTANCE_PATH"]) / "photo.lock"


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock

"""Error responses (app/errors.py) that no single domain owns."""
from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app import transactions
from app.extensions import db
from app.org.models import College


def _hold_the_colleges_table(is_postgres):
    """Another writer, outside any request (the nightly job, a CLI import), holding what the request
    needs: SQLite's write lock, or on PostgreSQL a lock on the colleges table. Returns its connection."""
    if is_postgres:
        url = make_url(str(db.engine.url)).set(drivername="postgresql")
        holder = psycopg.connect(url.render_as_string(hide_password=False))
        holder.execute("LOCK TABLE colleges IN ACCESS EXCLUSIVE MODE")
    else:
        holder = sqlite3.connect(db.engine.url.database)
        holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_write_that_waits_out_the_database_lock_is_a_503_and_saves_nothing(app, is_postgres, monkeypatch):
    """The lock is held past the request's wait (SQLite's busy_timeout; PostgreSQL's lock_timeout,
    55P03): the request is told the server is busy and to retry, not that something broke."""
    monkeypatch.setattr(transactions, "_BUSY_TIMEOUT_MS", 300)
    db.engine.dispose()  # new SQLite connections take the shorter wait

    @app.post("/_test/write-a-college")
    def _write():
        if is_postgres:
            db.session.execute(text("SET LOCAL lock_timeout = '300ms'"))
        db.session.add(College(code="BUSY", name="Never stored"))
        db.session.commit()
        return {}

    app.config["WTF_CSRF_ENABLED"] = False
    holder = _hold_the_colleges_table(is_postgres)
    try:
        response = app.test_client().post("/_test/write-a-college",
                                          headers={"Accept-Language": "zh-CN", "Accept": "application/json"})
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.get_json()["error"]["code"] == "busy"
    assert "服务器繁忙" in response.get_json()["error"]["message"]
    db.session.remove()
    assert db.session.scalar(select(College).where(College.code == "BUSY")) is None
    assert app.test_client().post("/_test/write-a-college").status_code == 200  # and trying again works

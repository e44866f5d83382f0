"""Error responses (app/errors.py) that no single domain owns."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from app import transactions
from app.extensions import db
from app.org.models import College


def test_a_write_that_waits_out_the_database_lock_is_a_503_and_saves_nothing(app, is_postgres, monkeypatch):
    """A writer outside any request (the nightly job, a CLI import) holds SQLite's lock past the
    wait: the request is told the server is busy and to retry, not that something broke."""
    if is_postgres:
        pytest.skip("SQLite's busy_timeout; PostgreSQL's row locks have no such wait here")
    monkeypatch.setattr(transactions, "_BUSY_TIMEOUT_MS", 300)
    db.engine.dispose()  # new connections take the shorter wait

    @app.post("/_test/write-a-college")
    def _write():
        db.session.add(College(code="BUSY", name="Never stored"))
        db.session.commit()
        return {}

    app.config["WTF_CSRF_ENABLED"] = False
    holder = sqlite3.connect(db.engine.url.database)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = app.test_client().post("/_test/write-a-college", headers={"Accept-Language": "zh-CN", "Accept": "application/json"})
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

"""Error responses (app/errors.py) that no single domain owns."""
from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app.db import transactions
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


def test_field_messages_are_in_the_requests_language(client):
    """marshmallow's own messages (required, not an integer, a range, one of, a length, unknown field) and
    the project's own: Chinese under a Chinese heading, English in English; for the API and the forms."""
    from app.auth.models import Role
    from tests.factories import login, make_user

    login(client, make_user(Role.school_admin))
    cases = {
        "/api/tickets?limit=abc": ("limit", "不是有效的整数。", "Not a valid integer."),
        "/api/tickets?limit=9999": ("limit", "必须大于或等于 1 且小于或等于 500。",
                                    "Must be greater than or equal to 1 and less than or equal to 500."),
        "/api/tickets?state=nonsense": ("state", "必须是以下之一：open, fixing, fix_submitted, closed。",
                                        "Must be one of: open, fixing, fix_submitted, closed."),
    }
    for url, (field, zh, en) in cases.items():
        body = client.get(url + "&lang=zh_CN").get_json()["error"]
        assert body["message"] == "部分字段缺失或无效。" and body["details"]["fields"][field] == [zh], body
        body = client.get(url + "&lang=en").get_json()["error"]
        assert body["details"]["fields"][field] == [en], body
    # A JSON body: a required field, an unknown one, the project's own message (a time from another age).
    payload = {"uuid": "7d4b7b7e-2f7a-4c57-9d5e-6a3c9f0e1b2a", "lab_id": 1, "checklist_version_id": 1,
               "level": "daily", "started_at": "1900-01-01T00:00:00Z", "finished_at": "1900-01-01T00:00:00Z",
               "answers": [{"result": "pass"}], "surprise": 1}
    zh = client.post("/api/inspections?lang=zh_CN", json=payload).get_json()["error"]["details"]["fields"]
    en = client.post("/api/inspections?lang=en", json=payload).get_json()["error"]["details"]["fields"]
    assert zh["answers"]["0"]["item_id"] == ["此项为必填。"] and en["answers"]["0"]["item_id"] == [
        "Missing data for required field."]
    assert zh["surprise"] == ["未知字段。"] and en["surprise"] == ["Unknown field."]
    assert zh["started_at"] == ["时间不合理。"] and en["started_at"] == ["Not a plausible time."]
    # A form page: a name longer than allowed.
    form = {"code": "X1", "name": "化" * 201}
    zh_page = client.post("/admin/colleges?lang=zh_CN", data=form).get_data(as_text=True)
    en_page = client.post("/admin/colleges?lang=en", data=form).get_data(as_text=True)
    assert "长度必须在 1 到 200 之间。" in zh_page and "Length must be" not in zh_page
    assert "Length must be between 1 and 200." in en_page

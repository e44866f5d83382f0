"""Read requests on PostgreSQL run their SELECTs in autocommit (app/db/transactions.py): the answers are the
same, nothing a read request tries to write lands, and the pooled connection is transactional again
for the next request."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.org.models import College
from tests.factories.org import make_college


def _routes(app):
    @app.get("/_test/read")
    def _read():
        conn = db.session.connection()
        names = list(db.session.scalars(select(College.code).order_by(College.code)))
        return {"names": names, "autocommit": bool(getattr(conn.connection.dbapi_connection, "autocommit", False))}

    @app.get("/_test/write-in-read")
    def _write_in_read():
        db.session.add(College(code="SNEAK", name="Written by a GET"))
        db.session.commit()
        return {"ok": True}

    @app.post("/_test/write")
    def _write():
        conn = db.session.connection()
        autocommit = bool(getattr(conn.connection.dbapi_connection, "autocommit", False))
        db.session.add(College(code="POSTED", name="Written by a POST"))
        db.session.commit()
        return {"autocommit": autocommit}


@pytest.fixture
def app_with_routes(app):
    _routes(app)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_a_read_request_sees_committed_data(app_with_routes, is_postgres):
    make_college(code="C1")
    db.session.commit()
    body = app_with_routes.test_client().get("/_test/read").get_json()
    assert body["names"] == ["C1"]
    # PostgreSQL reads without BEGIN/ROLLBACK; SQLite keeps pysqlite's own transactions.
    assert body["autocommit"] is is_postgres


def test_a_write_in_a_read_request_fails_and_leaves_nothing(app_with_routes):
    app_with_routes.config["PROPAGATE_EXCEPTIONS"] = False
    response = app_with_routes.test_client().get("/_test/write-in-read")
    assert response.status_code == 500
    db.session.remove()
    assert db.session.scalar(select(College).where(College.code == "SNEAK")) is None


def test_the_next_writing_request_gets_a_transaction_again(app_with_routes):
    client = app_with_routes.test_client()
    # Several reads then a write: the pool hands the write a connection with autocommit off.
    for _ in range(3):
        assert client.get("/_test/read").status_code == 200
    body = client.post("/_test/write").get_json()
    assert body["autocommit"] is False
    db.session.remove()
    assert db.session.scalar(select(College.code).where(College.code == "POSTED")) == "POSTED"

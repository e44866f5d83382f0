"""Pooled connections without a ping (config.py): a connection the database dropped costs one failed
request, after which SQLAlchemy discards the pool and the next request works."""
from __future__ import annotations

import time

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.org.models import College
from tests.factories.org import make_college


def _restart_postgresql():
    # The server ends every other connection to this database, as a restart does.
    killer = create_engine(db.engine.url, poolclass=NullPool)
    with killer.connect() as conn:
        killed = conn.execute(text("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                                   "where datname = current_database() and pid <> pg_backend_pid()")).scalar()
        conn.commit()
    killer.dispose()
    assert killed >= 1


def _restart_sqlite():
    # A file database has no server to restart: every connection opened before now is closed when
    # the pool next hands it out, which is what the pool meets after a restart.
    restarted_at = time.time()

    @event.listens_for(db.engine, "checkout")
    def _dead_if_older(dbapi_connection, record, proxy):
        if record.starttime <= restarted_at:
            dbapi_connection.close()


def test_a_dropped_connection_fails_one_request_then_the_pool_recovers(app, is_postgres):
    make_college(code="C1")
    db.session.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/_test/colleges")
    def _colleges():
        return {"codes": list(db.session.scalars(select(College.code)))}

    client = app.test_client()
    assert client.get("/_test/colleges").get_json() == {"codes": ["C1"]}
    db.session.remove()
    (_restart_postgresql if is_postgres else _restart_sqlite)()
    responses = [client.get("/_test/colleges").status_code for _ in range(3)]
    assert responses[0] == 500  # the one request that met a dead connection
    assert responses[1:] == [200, 200]

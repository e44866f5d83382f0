"""The PWA's server side."""
from __future__ import annotations


def statements_for(client, app, url: str) -> int:
    """How many SQL statements GET ``url`` runs (it must answer 200)."""
    from sqlalchemy import event

    from app.extensions import db

    n = [0]

    def hook(*args, **kw):
        n[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hook)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    return n[0]

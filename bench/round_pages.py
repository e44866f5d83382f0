"""Benchmark: the rounds pages for 5,000 labs and 200 rounds (issue 22), as the school admin sees them.

    .venv/bin/python -m bench.round_pages                 # SQLite (a file under a temp dir), 500 and 5,000 labs
    .venv/bin/python -m bench.round_pages --pg postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.round_pages --labs 5000     # one size only

The world of bench.rounds (colleges of 50 labs, 200 rounds, ~450,000 inspections at 5,000 labs). Through
the app's test client, logged in as the admin: GET /rounds (the 200 rounds with planned / done / late),
GET /rounds/new (the planning form: every lab a checkbox, every inspector), GET /rounds/<id> of a
school-wide round of every lab (each lab's state, a select per lab, the change log), and POST
/rounds/new planning a school-wide round of every lab spread over the 20 school inspectors. For each:
seconds, SQL statements (the same at 500 and 5,000 labs) and the page's bytes (raw, and gzipped at
level 6 as a reverse proxy would send it).
"""
from __future__ import annotations

import gzip
import random
import tempfile
import time
from datetime import timedelta

from sqlalchemy import event, update

from bench.rounds import FIRST_DAY, seed
from bench.scratch import main_by_lab_count

PASSWORD = "bench-password-1"


def measure(uri: str, n_labs: int, is_pg: bool) -> dict:
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.auth.models import User
    from app.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=tempfile.mkdtemp(prefix="labsafe-bench-"))
    with app.app_context():
        db.create_all()
        counts = seed(n_labs, random.Random(n_labs))
        db.session.execute(update(User).where(User.id == counts["admin"]).values(
            username="admin", password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")))
        db.session.commit()
        with db.engine.begin() as conn:
            if is_pg:  # bench.rounds seeds rounds with their ids: the sequence goes on from them
                conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('inspection_rounds', 'id'), "
                                     "(SELECT max(id) FROM inspection_rounds))")
            conn.exec_driver_sql("ANALYZE")
        db.session.remove()

    client = app.test_client()
    with app.app_context():
        token = client.get("/api/csrf").get_json()["csrf_token"]
        resp = client.post("/api/login", json={"username": "admin", "password": PASSWORD},
                           headers={"X-CSRFToken": token})
        assert resp.status_code == 200, resp.get_json()
    with app.app_context():
        token = client.get("/api/csrf").get_json()["csrf_token"]
    statements = {"n": 0}

    def count(*_a):
        statements["n"] += 1

    window = (FIRST_DAY + timedelta(days=120), FIRST_DAY + timedelta(days=150))
    plan = {"title": "全校检查", "kind": "school_wide", "checklist_key": "full", "window_from": window[0].isoformat(),
            "window_to": window[1].isoformat(), "labs_mode": "all", "inspector_ids": [str(u) for u in range(1, 21)],
            "assign": "even"}
    out = {"labs": n_labs, "rounds": counts["rounds"]}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    for label, method, path, data in (
        ("list", "GET", "/rounds", None),
        ("form", "GET", "/rounds/new", None),
        ("school_round_page", "GET", "/rounds/1", None),  # bench.rounds: round 1 is school-wide, every lab
        ("plan_every_lab", "POST", "/rounds/new", plan),
    ):
        statements["n"] = 0
        t = time.perf_counter()
        with app.app_context():
            resp = client.open(path, method=method, data=data, headers={"X-CSRFToken": token})
        seconds = time.perf_counter() - t
        assert resp.status_code in (200, 302), (path, resp.status_code)
        body = resp.get_data()
        out[label] = {"seconds": round(seconds, 3), "statements": statements["n"], "kb": round(len(body) / 1024),
                      "kb_gzip": round(len(gzip.compress(body, 6)) / 1024)}
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
        db.engine.dispose()
    return out


def main(argv=None):
    main_by_lab_count(measure, "round_pages", __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    main()

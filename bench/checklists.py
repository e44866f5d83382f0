"""Benchmark: validating and loading the checklist files, and what a user may run in many labs.

    .venv/bin/python -m bench.checklists                       # SQLite (a temp file)
    .venv/bin/python -m bench.checklists --pg postgresql://postgres@127.0.0.1:5432/postgres

Measures (median of --repeat runs): `check` (parse + validate every shipped file), the first
`load` (all versions and items written), an unchanged reload (idempotent: nothing written),
`checklists_for_user_and_labs` for a school inspector over 100 and 1,000 labs (time and SQL
statements; the count must not grow with the number of labs), and GET
/api/labs/<id>/checklists/full through the test client.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url


def _median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", help="PostgreSQL URL (a scratch database is created and dropped)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from app import create_app
    from app.extensions import db

    tmp = tempfile.mkdtemp(prefix="bench-checklists-")
    admin = None
    if args.pg:
        url = make_url(args.pg).set(drivername="postgresql+psycopg")
        name = f"bench_checklists_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        uri = url.set(database=name).render_as_string(hide_password=False)
    else:
        uri = f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=f"{tmp}/instance", WTF_CSRF_ENABLED=False)
    try:
        with app.app_context():
            db.create_all()
            _run(app, db, args.repeat, "PostgreSQL" if args.pg else "SQLite")
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _run(app, db, repeat, backend):
    from app.auth.models import Role
    from app.checklists import services
    from app.checklists.loader import parse_directory
    from app.checklists.models import Checklist, ChecklistItem, ChecklistVersion
    from app.org.models import HAZARD_TAGS
    from tests.factories import DEFAULT_PASSWORD, make_college, make_user
    from tests.factories.checklists import SHIPPED_DIR

    specs = parse_directory(SHIPPED_DIR).specs
    n_items = sum(len(s.items) for s in specs)
    print(f"backend: {backend}; {len(specs)} files, {n_items} items")
    print(f"check (parse+validate all files): {_median_ms(lambda: parse_directory(SHIPPED_DIR), repeat):.1f} ms")

    def first_load():
        for model in (ChecklistItem,):
            db.session.execute(model.__table__.delete())
        db.session.execute(Checklist.__table__.update().values(current_version_id=None))
        db.session.execute(ChecklistVersion.__table__.delete())
        db.session.execute(Checklist.__table__.delete())
        db.session.commit()
        db.session.expunge_all()
        t = time.perf_counter()
        services.load_directory(SHIPPED_DIR, db.session)
        return (time.perf_counter() - t) * 1000

    loads = [first_load() for _ in range(repeat)]
    print(f"first load (all versions + items written): {statistics.median(loads):.1f} ms")
    reload_ms = _median_ms(lambda: services.load_directory(SHIPPED_DIR, db.session), repeat)
    print(f"unchanged reload (nothing written): {reload_ms:.1f} ms")

    # Labs: 1,000 across 20 colleges, categories and hazard tags cycled.
    from app.org.models import Lab, LabCategory

    colleges = [make_college() for _ in range(20)]
    cats = list(LabCategory)
    db.session.execute(
        Lab.__table__.insert(),
        [
            dict(
                code=f"B{n:05d}",
                name=f"实验室{n}",
                building="",
                floor="",
                room="",
                college_id=colleges[n % 20].id,
                category=cats[n % len(cats)].value,
                hazard_tags=[HAZARD_TAGS[n % len(HAZARD_TAGS)], HAZARD_TAGS[(n * 7) % len(HAZARD_TAGS)]],
                phone="",
                active=True,
                qr_token=uuid.uuid4().hex,
            )
            for n in range(1000)
        ],
    )
    db.session.commit()
    inspector = make_user(Role.inspector)
    from sqlalchemy import select

    labs = db.session.scalars(select(Lab).order_by(Lab.id)).all()
    services.checklists_for_user_and_labs(inspector, labs[:1])  # warm-up: the user's roles load once
    for size in (100, 1000):
        statements = []
        listener = lambda *a, counted=statements: counted.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        t = time.perf_counter()
        result = services.checklists_for_user_and_labs(inspector, labs[:size])
        ms = (time.perf_counter() - t) * 1000
        event.remove(db.engine, "before_cursor_execute", listener)
        offered = sum(len(a.items) for v in result.values() for a in v)
        print(f"checklists_for_user_and_labs, {size} labs: {ms:.1f} ms, {len(statements)} SQL statements, "
              f"{offered} applicable items in all")

    client = app.test_client()
    client.post("/api/login", json={"username": inspector.username, "password": DEFAULT_PASSWORD})
    lab_id = labs[0].id
    assert client.get(f"/api/labs/{lab_id}/checklists/full").status_code == 200
    print(f"GET /api/labs/<id>/checklists/full: "
          f"{_median_ms(lambda: client.get(f'/api/labs/{lab_id}/checklists/full'), repeat * 4):.1f} ms (median)")


if __name__ == "__main__":
    main()

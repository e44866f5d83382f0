"""CPU per request of each hot path, the app's and the database's apart, for docs/CAPACITY.md.

    .venv/bin/python -m bench.capacity [--pg URL] [--n 60]

CPU time, not wall time: the machine is shared (2 cores, other work running), and wall times move
2x between identical runs while CPU time does not. For each path, in one process, through Flask's
test client (no HTTP server, no concurrency):

- "app ms": this process's CPU per request (``time.process_time``): the view, the ORM, the driver's
  client side, the test client's WSGI plumbing. A real server adds its HTTP parsing and writing:
  bench.load's ceiling (bare Flask under gunicorn) costs ~0.3-0.5 ms of server CPU per request,
  reported here as the bare app's "app ms" through the same test client for scale.
- "db ms": the CPU the PostgreSQL backends serving *this benchmark's database* spent per request,
  read from /proc for exactly those backends (pg_stat_activity), so other databases' load on the
  same server does not count (bench.load sums every ``postgres`` process on the machine).

The database is the demo university (`flask demo-data`, 66 labs) and the shipped checklists, built
fresh in a database of its own on the server named by --pg (created and dropped).

Paths, as the phone calls them during the morning peak (docs/CAPACITY.md):
  login        POST /api/login                        a lab officer (scrypt: the CPU is the hash)
  bundle       GET  /api/offline/bundle               a lab officer's offline bundle (app start)
  bundle_insp  GET  /api/offline/bundle               a school inspector's (every lab)
  qr_api       GET  /api/qr/<token>                   the door QR scanned in the app
  card         GET  /api/labs/<id>/card               the lab card
  checklist    GET  /api/labs/<id>/checklists/<key>   the school inspection's full list
  daily        POST /api/inspections                  a lab officer's daily check (art. 29), all pass
  submit       POST /api/inspections                  a school inspection of ~40 items, one failed (a ticket)
  photo        PUT  /api/photos/<uuid>                a 2048x1536 JPEG as the phone sends it (~220 KB)
  tickets      GET  /api/tickets                      a college leader's ticket list
  metrics      GET  /metrics                          one Prometheus scrape (from 127.0.0.1)
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.load import DEMO_PASSWORD, ROOT, build_database, submit_templates

PG_ADMIN = os.environ.get("LABSAFE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_TICK = os.sysconf("SC_CLK_TCK")
KW = {"base_url": "https://localhost"}


def _backend_cpu(admin, dbname: str) -> float:
    """CPU seconds so far of the live backends connected to `dbname` (not the admin's own)."""
    from sqlalchemy import text

    with admin.connect() as conn:
        pids = conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                            {"d": dbname}).all()
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _photo_bytes() -> bytes:
    """A 2048x1536 camera-like JPEG at quality 60 (smooth gradients, edges and some noise)."""
    from PIL import Image, ImageDraw, ImageFilter

    img = Image.effect_noise((2048, 1536), 40).convert("RGB").filter(ImageFilter.GaussianBlur(2))
    draw = ImageDraw.Draw(img)
    for i in range(0, 2048, 64):
        draw.line([(i, 0), (2048 - i, 1536)], fill=(i % 255, 80, 160), width=3)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=60)
    return out.getvalue()


def measure_all(url: str, dbname: str, admin, instance: Path, info: dict, n: int) -> dict:
    from app import create_app
    from app.extensions import db
    from bench.bare_app import app as bare

    # One pooled connection: every statement of the benchmark runs on one backend (its CPU is read).
    app = create_app("production", SECRET_KEY="bench-" + "x" * 40, SQLALCHEMY_DATABASE_URI=url,
                     INSTANCE_PATH=str(instance), API_RATE_LIMIT="", PUBLIC_BASE_URL="https://localhost",
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 2, "max_overflow": 0})

    def client(username):
        c = app.test_client()
        token = c.get("/api/csrf", **KW).get_json()["csrf_token"]
        r = c.post("/api/login", json={"username": username, "password": DEMO_PASSWORD},
                   headers={"X-CSRFToken": token, "Referer": "https://localhost/"}, **KW)
        assert r.status_code == 200, r.get_data(as_text=True)
        return c, r.get_json()["csrf_token"]

    def timed(fn, count):
        for i in range(min(3, count)):
            fn(i)  # warm: compiled statements, templates, the pool's connections
        cpu0, db0 = time.process_time(), _backend_cpu(admin, dbname)
        for i in range(count):
            fn(i)
        cpu1, db1 = time.process_time(), _backend_cpu(admin, dbname)
        return {"app_ms": round((cpu1 - cpu0) / count * 1000, 2), "db_ms": round((db1 - db0) / count * 1000, 2),
                "n": count}

    def get(c, paths, expect=200):
        def fn(i):
            r = c.get(paths[i % len(paths)], **KW)
            assert r.status_code == expect, (paths[i % len(paths)], r.status_code, r.get_data(as_text=True)[:300])
        return fn

    out = {}
    bare_client = bare.test_client()
    out["bare_flask"] = timed(lambda i: bare_client.get("/ping"), 500)
    out["bare_flask"]["db_ms"] = 0.0
    inspector, insp_token = client("inspector")
    leader, _ = client(info["leader"])
    officer_name, lab_id, daily = info["daily"]
    officer, off_token = client(officer_name)

    def login_fn(i):
        c = app.test_client()
        token = c.get("/api/csrf", **KW).get_json()["csrf_token"]
        r = c.post("/api/login", json={"username": officer_name, "password": DEMO_PASSWORD},
                   headers={"X-CSRFToken": token, "Referer": "https://localhost/"}, **KW)
        assert r.status_code == 200
    out["login"] = timed(login_fn, max(5, n // 6))
    out["bundle"] = timed(get(officer, ["/api/offline/bundle"]), n // 3)
    out["bundle_insp"] = timed(get(inspector, ["/api/offline/bundle"]), max(5, n // 6))
    out["qr_api"] = timed(get(inspector, [f"/api/qr/{t}" for t in info["tokens"]]), n)
    out["card"] = timed(get(inspector, [f"/api/labs/{i}/card" for i in info["lab_ids"]]), n)
    out["checklist"] = timed(get(inspector, [f"/api/labs/{i}/checklists/{info['checklist_key']}"
                                             for i in info["checklist_labs"]]), n)

    headers = {"Content-Type": "application/json", "Referer": "https://localhost/"}
    now = datetime.now(UTC)
    daily_body = {"lab_id": lab_id, "checklist_version_id": daily["version_id"], "level": "daily",
                  "started_at": (now - timedelta(minutes=5)).isoformat(), "finished_at": now.isoformat(),
                  "note": "", "answers": [{"item_id": i["id"], "result": "pass", "note": ""} for i in daily["items"]]}

    def daily_fn(i):
        body = dict(daily_body, uuid=str(uuid.uuid4()))
        r = officer.post("/api/inspections", data=json.dumps(body), headers={**headers, "X-CSRFToken": off_token}, **KW)
        assert r.status_code in (200, 201), r.get_data(as_text=True)[:300]
    out["daily"] = timed(daily_fn, n // 2)
    out["daily"]["answers"] = len(daily["items"])

    bodies = submit_templates(info)

    def submit_fn(i):
        r = inspector.post("/api/inspections", data=bodies[i % len(bodies)].replace("@UUID@", str(uuid.uuid4())),
                           headers={**headers, "X-CSRFToken": insp_token}, **KW)
        assert r.status_code in (200, 201), r.get_data(as_text=True)[:300]
    out["submit"] = timed(submit_fn, n // 2)
    out["submit"]["answers"] = len(info["submit"][0]["items"])

    photo = _photo_bytes()

    def photo_fn(i):
        # New bytes each time (a JPEG comment segment after SOI): the store is content-addressed.
        data = photo[:2] + b"\xff\xfe\x00\x12" + os.urandom(16) + photo[2:]
        r = inspector.put(f"/api/photos/{uuid.uuid4()}", data={"file": (io.BytesIO(data), "p.jpg", "image/jpeg")},
                          headers={"X-CSRFToken": insp_token, "Referer": "https://localhost/"}, **KW)
        assert r.status_code in (200, 201), r.get_data(as_text=True)[:300]
    out["photo"] = timed(photo_fn, max(5, n // 4))
    out["photo"]["bytes"] = len(photo)
    out["tickets"] = timed(get(leader, ["/api/tickets"]), n // 2)
    anon = app.test_client()
    if "monitoring.scrape" in app.view_functions:
        out["metrics"] = timed(get(anon, ["/metrics"]), max(10, n // 3))
    with app.app_context():
        db.engine.dispose()
    return out


def find_daily(url: str, instance: Path) -> tuple[str, int, dict]:
    """A lab officer of the demo, one of their labs and its daily checklist (items, version)."""
    from app import create_app
    from app.auth.models import RoleAssignment, User

    app = create_app("production", SECRET_KEY="bench-" + "x" * 40, SQLALCHEMY_DATABASE_URI=url,
                     INSTANCE_PATH=str(instance), API_RATE_LIMIT="", PUBLIC_BASE_URL="https://localhost")
    from app.extensions import db

    with app.app_context():
        row = db.session.execute(
            db.select(User.username, RoleAssignment.lab_id).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == "lab_officer", User.username.like("%.officer1")).order_by(User.id)
        ).first()
        c = app.test_client()
        token = c.get("/api/csrf", **KW).get_json()["csrf_token"]
        c.post("/api/login", json={"username": row.username, "password": DEMO_PASSWORD},
               headers={"X-CSRFToken": token, "Referer": "https://localhost/"}, **KW)
        lists = c.get(f"/api/labs/{row.lab_id}/checklists", **KW).get_json()
        key = next(cl["key"] for cl in lists if "daily" in cl["levels"])
        full = c.get(f"/api/labs/{row.lab_id}/checklists/{key}", **KW).get_json()
        db.session.remove()
        db.engine.dispose()
    return row.username, row.lab_id, full


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=PG_ADMIN, help="a PostgreSQL URL to create the benchmark's database from")
    ap.add_argument("--n", type=int, default=60, help="requests per read path (submits n/2, logins n/6)")
    ap.add_argument("--runs", type=int, default=3, help="runs; each figure is the median")
    args = ap.parse_args(argv)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    sys.path.insert(0, str(ROOT))
    name = f"labsafe_capacity_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin_url = make_url(args.pg).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory(prefix="labsafe-capacity-") as tmp:
            instance = Path(tmp)
            info = build_database(url, instance)
            info["daily"] = find_daily(url, instance)
            with admin.connect() as conn:
                conn.execute(text(f'ANALYZE'))  # noqa: F541 (the admin database; the bench's below)
            runs = []
            for r in range(args.runs):
                runs.append(measure_all(url, name, admin, instance, info, args.n))
                print(f"run {r + 1}: {json.dumps(runs[-1])}", flush=True)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    result = {}
    for path in runs[0]:
        result[path] = {k: (statistics.median(run[path][k] for run in runs) if k.endswith("_ms") else v)
                        for k, v in runs[0][path].items()}
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"CPU ms per request, median of {args.runs} runs")
    print(f"{'path':12} {'app ms':>8} {'db ms':>8}")
    for path, r in result.items():
        print(f"{path:12} {r['app_ms']:8.2f} {r['db_ms']:8.2f}")
    print("JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

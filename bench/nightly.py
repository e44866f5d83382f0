"""Benchmark: the nightly job over 5,000 labs with a year of daily checks and tickets.

    .venv/bin/python -m bench.nightly                      # SQLite (a file under a temp dir), 500 and 5,000 labs
    .venv/bin/python -m bench.nightly --pg postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.nightly --labs 5000          # one size only

For each size: generate (seeded, bulk executemany) colleges of 50 labs with an officer each and a
leader and head per college, a year of daily checks on ~90 % of lab-days, ~3 % of labs closed for
two weeks, and ~4 tickets per lab over the year (most closed; the open ones with deadlines spread so
that some fall due every night). The last night before the measured ones is marked processed. Then
time, and count the SQL statements of, (1) one night and (2) a 7-night catch-up, through
``run_nightly`` exactly as ``flask nightly`` runs it (no SMTP configured, so sending is a count).
The statement count must be the same for 500 and 5,000 labs.
"""
from __future__ import annotations

import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bench.scratch import main_by_lab_count

TZ = ZoneInfo("Asia/Shanghai")
LAST_DONE = date(2026, 10, 24)  # the job already ran for this night
ONE_NIGHT = LAST_DONE + timedelta(days=1)
CATCH_UP_TO = ONE_NIGHT + timedelta(days=7)
FIRST_DAY = CATCH_UP_TO - timedelta(days=364)


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)


def seed(conn, n_labs: int, rnd: random.Random) -> dict:
    """Bulk rows through the DBAPI (executemany): the same on SQLite and PostgreSQL."""
    n_colleges = max(1, n_labs // 50)
    created = datetime(2025, 1, 1)
    counts = {}

    def bulk(sql, rows):
        if rows:
            conn.exec_driver_sql(sql, rows)
        counts[sql.split()[2]] = counts.get(sql.split()[2], 0) + len(rows)

    bulk("INSERT INTO colleges (id, code, name, kind, active) VALUES (%s, %s, %s, 'college', true)",
         [(c, f"C{c:03d}", f"学院{c}") for c in range(1, n_colleges + 1)])
    for code, name in (
        ("lab_management", "实验室建设与管理处"),
        ("security", "保卫处"),
        ("assets", "资产与后勤管理处"),
    ):
        conn.exec_driver_sql("INSERT INTO departments (code, name) VALUES (%s, %s)", [(code, name)])
    bulk("INSERT INTO labs (id, code, name, building, floor, room, college_id, category, hazard_tags, phone, active,"
         " qr_token, created_at) VALUES (%s, %s, %s, '理工楼', '3', '301', %s, 'chemistry', '[]', '', %s, %s, %s)",
         [(lab, f"L{lab:05d}", f"实验室{lab}", (lab - 1) % n_colleges + 1, lab % 97 != 0,
           uuid.UUID(int=rnd.getrandbits(128)).hex, created) for lab in range(1, n_labs + 1)])
    # Users: an officer per lab (with an address, so the outbox fills), a leader and a head per college.
    users, roles = [], []
    uid = 0
    for lab in range(1, n_labs + 1):
        uid += 1
        users.append((uid, f"officer{lab}", f"安全员{lab}", f"o{lab}@example.edu.cn"))
        roles.append((uid, "lab_officer", None, lab))
    for c in range(1, n_colleges + 1):
        for role in ("college_leader", "college_head"):
            uid += 1
            users.append((uid, f"{role}{c}", f"{role}{c}", f"{role}{c}@example.edu.cn"))
            roles.append((uid, role, c, None))
    bulk("INSERT INTO users (id, username, name, email, password_hash, active, session_version, created_at)"
         " VALUES (%s, %s, %s, %s, 'x', true, 1, '2025-01-01 00:00:00')", users)
    bulk("INSERT INTO role_assignments (user_id, role, college_id, lab_id) VALUES (%s, %s, %s, %s)", roles)
    conn.exec_driver_sql("INSERT INTO checklists (id, key, kind, title) VALUES (1, 'daily', 'daily', '日查')")
    conn.exec_driver_sql("INSERT INTO checklist_versions (id, checklist_id, number, content_hash, title, source_file,"
                         " loaded_at) VALUES (1, 1, 1, 'h', '日查', 'daily.toml', '2025-01-01')")
    # Closures: ~3 % of labs closed for two weeks inside the measured nights.
    closed = {lab for lab in range(1, n_labs + 1) if rnd.random() < 0.03}
    bulk("INSERT INTO lab_closures (lab_id, start_date, end_date, reason) VALUES (%s, %s, %s, 'holiday')",
         [(lab, ONE_NIGHT - timedelta(days=3), ONE_NIGHT + timedelta(days=10)) for lab in closed])
    # A year of daily checks, ~90 % of lab-days, at a random time of the school day.
    day = FIRST_DAY
    batch = []
    n = 0
    while day <= CATCH_UP_TO:
        for lab in range(1, n_labs + 1):
            if rnd.random() < 0.9:
                n += 1
                fin = utc(day, rnd.randint(7, 21), rnd.randint(0, 59))
                batch.append((f"{n:036d}", lab, fin - timedelta(minutes=5), fin, fin))
        if len(batch) > 200_000:
            bulk("INSERT INTO inspections (uuid, payload_hash, lab_id, checklist_version_id, level, inspector_id,"
                 " started_at, finished_at, received_at, note) VALUES (%s, 'h', %s, 1, 'daily', 1, %s, %s, %s, '')",
                 batch)
            batch = []
        day += timedelta(days=1)
    bulk("INSERT INTO inspections (uuid, payload_hash, lab_id, checklist_version_id, level, inspector_id,"
         " started_at, finished_at, received_at, note) VALUES (%s, 'h', %s, 1, 'daily', 1, %s, %s, %s, '')", batch)
    # Tickets: ~4 per lab over the year; 85 % closed, the rest open/fixing with deadlines around the measured nights.
    tickets = []
    tid = 0
    for lab in range(1, n_labs + 1):
        for _ in range(4):
            tid += 1
            made = utc(FIRST_DAY + timedelta(days=rnd.randint(0, 350)), 10)
            sev = "major" if rnd.random() < 0.1 else "general"
            if rnd.random() < 0.85:
                state, level, deadline = "closed", "lab", made + timedelta(days=7)
            else:
                state = rnd.choice(["open", "fixing", "fix_submitted"])
                level = rnd.choice(["lab", "lab", "college", "school"])
                deadline = utc(ONE_NIGHT + timedelta(days=rnd.randint(-3, 10)), rnd.randint(0, 23))
            tickets.append((tid, lab, rnd.choice(["21", "22", "23", "24(6)", "16(2)"]), f"隐患{tid}", sev, state, level,
                            deadline, made, made, 1 + rnd.randint(1, 3)))
    bulk("INSERT INTO rectification_tickets (id, lab_id, article, title, description, severity, state, level,"
         " deadline, cannot_fix, interim_measures, created_at, updated_at, department_id, version)"
         " VALUES (%s, %s, %s, %s, '', %s, %s, %s, %s, false, '', %s, %s, 1, %s)", tickets)
    bulk("INSERT INTO ticket_events (ticket_id, kind, to_state, to_level, note, created_at)"
         " VALUES (%s, 'created', 'open', 'lab', '', %s)", [(t[0], t[8]) for t in tickets])
    conn.exec_driver_sql("INSERT INTO nightly_runs (day, started_at, finished_at) VALUES (%s, %s, %s)",
                         [(LAST_DONE, datetime(2026, 10, 24, 17), datetime(2026, 10, 24, 17))])
    counts["closed_labs"] = len(closed)
    return counts


def measure(uri: str, n_labs: int, is_pg: bool) -> dict:
    from app import create_app
    from app.extensions import db
    from app.jobs.services import run_nightly

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=tempfile.mkdtemp(prefix="labsafe-bench-"))
    with app.app_context():
        db.create_all()
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            if not is_pg:
                # exec_driver_sql with %s placeholders: sqlite3 wants "?".
                orig = conn.exec_driver_sql

                def sqlite_exec(sql, rows=None, _orig=orig):
                    return _orig(sql.replace("%s", "?"), rows) if rows is not None else _orig(sql)

                conn.exec_driver_sql = sqlite_exec  # type: ignore[assignment]
            counts = seed(conn, n_labs, random.Random(n_labs))
        if is_pg:
            with db.engine.begin() as conn:
                for table in ("colleges", "labs", "users", "rectification_tickets"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                conn.exec_driver_sql("ANALYZE")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        seeded = time.perf_counter() - t0

        statements = {"n": 0}
        slowest: dict[str, float] = {}

        def count(conn, cursor, statement, *_a):
            statements["n"] += 1
            conn.info["t0"] = time.perf_counter()

        def timed(conn, cursor, statement, *_a):
            key = " ".join(statement.split()[:4])
            slowest[key] = slowest.get(key, 0.0) + time.perf_counter() - conn.info.pop("t0", time.perf_counter())

        event.listen(db.engine, "before_cursor_execute", count)
        event.listen(db.engine, "after_cursor_execute", timed)
        out = {"labs": n_labs, "seed_s": round(seeded, 1), **{k: v for k, v in counts.items()}}
        for label, day in (("one_night", ONE_NIGHT), ("catch_up_7", CATCH_UP_TO)):
            statements["n"] = 0
            slowest.clear()
            t = time.perf_counter()
            summary = run_nightly(day, app.config)
            out[label] = {
                "seconds": round(time.perf_counter() - t, 3), "statements": statements["n"],
                "days": len(summary["days"]), "missed": summary["missed"], "escalated": summary["escalated"],
                "notifications": summary["notifications"], "emails": summary["emails"],
                "slowest": {k: round(v, 3) for k, v in sorted(slowest.items(), key=lambda kv: -kv[1])[:3]},
            }
        event.remove(db.engine, "before_cursor_execute", count)
        event.remove(db.engine, "after_cursor_execute", timed)
        db.session.remove()
        db.engine.dispose()
    return out


def main(argv=None):
    main_by_lab_count(measure, "nightly", __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    main()

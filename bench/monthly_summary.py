"""Benchmark: the monthly summary over 5,000 labs in 40 colleges and a year of data.

    .venv/bin/python -m bench.monthly_summary                       # SQLite (a file under bench/out/)
    .venv/bin/python -m bench.monthly_summary --pg postgresql://postgres@127.0.0.1:5432/postgres

Generates (seeded, bulk inserts): labs active since created (one active period each), daily checks
on ~90 % of open lab-days, missed-check rows for the rest, holiday closures, monthly college checks
(~80 % of labs), school checks twice a semester on half the labs, tickets from failed items with
their events (created / escalated / verify), and then times building October 2026's summary (with
September beside it) school-wide and for one college, counting SQL statements. Prints the numbers;
docs/PERFORMANCE.md records them.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 1, 4, 0)  # naive UTC: Nov 1 noon, school time; October is complete
FIRST_DAY = date(2025, 11, 1)
LAST_DAY = date(2026, 10, 31)
MONTH = date(2026, 10, 1)
ARTICLES = ["12", "13", "15", "16(1)", "16(2)", "17", "18", "19", "20", "21(1)", "21(2)", "22", "23", "24(1)",
            "24(6)", "24(8)"]


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)


def generate(n_colleges: int, n_labs: int, seed: int = 42):
    """Rows per table as tuples, in insertion order."""
    rnd = random.Random(seed)
    rows: dict[str, list[tuple]] = {k: [] for k in (
        "colleges", "labs", "lab_active_periods", "lab_closures", "inspections", "missed_daily_checks",
        "rectification_tickets", "ticket_events")}
    created = utc(date(2025, 9, 1), 9)
    for c in range(1, n_colleges + 1):
        rows["colleges"].append((c, f"C{c:03d}", f"学院{c}", f"College {c}", "college", True))
    for lab in range(1, n_labs + 1):
        college = (lab - 1) % n_colleges + 1
        rows["labs"].append((lab, f"L{lab:05d}", f"实验室{lab}", None, "理工楼", "3", f"{lab % 900 + 100}", college,
                             "chemistry", "[]", "0572-2321000", True, uuid.UUID(int=rnd.getrandbits(128)).hex,
                             created))
        rows["lab_active_periods"].append((lab, lab, None, None))  # active since created
    closures: dict[int, list[tuple[date, date]]] = {}
    cid = 0
    for lab in range(1, n_labs + 1):
        spans = []
        if rnd.random() < 0.2:
            spans.append((date(2026, 1, 25), date(2026, 2, 24)))  # winter break
        if rnd.random() < 0.1:
            spans.append((date(2026, 7, 15), date(2026, 8, 31)))  # summer
        if rnd.random() < 0.05:
            start = FIRST_DAY + timedelta(days=rnd.randrange(360))
            spans.append((start, start + timedelta(days=rnd.randrange(3, 20))))  # renovation
        for s, e in spans:
            cid += 1
            rows["lab_closures"].append((cid, lab, s, e, "假期"))
        closures[lab] = spans

    insp_id = ticket_id = event_id = missed_id = 0
    days = [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]

    def add_inspection(lab, level, when):
        nonlocal insp_id
        insp_id += 1
        rows["inspections"].append((insp_id, f"{insp_id:036d}", "0" * 64, lab, 1, level, 1, when, when, when, ""))
        return insp_id

    def add_tickets(lab, insp, when, expected):
        nonlocal ticket_id, event_id
        n = 0
        while rnd.random() < expected / (1 + expected) and n < 5:
            n += 1
            ticket_id += 1
            major = rnd.random() < 0.1
            deadline = when + timedelta(days=2 if major else 7)
            closed = when + timedelta(days=rnd.expovariate(1 / 4)) if rnd.random() < 0.9 else None
            if closed is not None and closed > NOW:
                closed = None
            level = "lab"
            event_id += 1
            rows["ticket_events"].append((event_id, ticket_id, None, "created", None, "open", None, "lab", deadline, "",
                                          when))
            if deadline < (closed or NOW):
                event_id += 1
                rows["ticket_events"].append((event_id, ticket_id, None, "escalated", "open", "open", "lab",
                                              "college", deadline, "", deadline))
                level = "college"
            if closed is not None:
                event_id += 1
                rows["ticket_events"].append((event_id, ticket_id, 1, "verify", "fix_submitted", "closed", None,
                                              None, None, "", closed))
            rows["rectification_tickets"].append((
                ticket_id, lab, insp, rnd.choice(ARTICLES), "隐患", "", "major" if major else "general",
                "closed" if closed else "open", level, deadline, False, "", when, closed or when, closed,
                deadline if level == "college" else None, 1,
            ))

    for lab in range(1, n_labs + 1):
        spans = closures[lab]
        for day in days:
            if any(s <= day <= e for s, e in spans):
                continue
            if rnd.random() < 0.9:
                when = utc(day, 17, rnd.randrange(60))
                insp = add_inspection(lab, "daily", when)
                if rnd.random() < 0.02:
                    add_tickets(lab, insp, when, 1.0)
            else:
                missed_id += 1
                rows["missed_daily_checks"].append((missed_id, lab, day, utc(day + timedelta(days=1), 2)))
        for m in range(12):
            month = date(FIRST_DAY.year + (FIRST_DAY.month - 1 + m) // 12, (FIRST_DAY.month - 1 + m) % 12 + 1, 1)
            if rnd.random() < 0.8:
                when = utc(month + timedelta(days=rnd.randrange(27)), 10)
                add_tickets(lab, add_inspection(lab, "college", when), when, 0.6)
            if month.month in (11, 4, 10) and rnd.random() < 0.5:
                when = utc(month + timedelta(days=rnd.randrange(27)), 14)
                add_tickets(lab, add_inspection(lab, "school", when), when, 0.8)
            if rnd.random() < 0.02:
                when = utc(month + timedelta(days=rnd.randrange(27)), 15)
                add_inspection(lab, "special", when)
    return rows


COLUMNS = {
    "colleges": "id, code, name, name_en, kind, active",
    "labs": "id, code, name, name_en, building, floor, room, college_id, category, hazard_tags, phone, active, "
            "qr_token, created_at",
    "lab_active_periods": "id, lab_id, start_at, end_at",
    "lab_closures": "id, lab_id, start_date, end_date, reason",
    "inspections": "id, uuid, payload_hash, lab_id, checklist_version_id, level, inspector_id, started_at, "
                   "finished_at, received_at, note",
    "missed_daily_checks": "id, lab_id, day, flagged_at",
    "rectification_tickets": "id, lab_id, inspection_id, article, title, description, severity, state, level, "
                             "deadline, cannot_fix, interim_measures, created_at, updated_at, closed_at, "
                             "escalated_at, version",
    "ticket_events": "id, ticket_id, actor_id, kind, from_state, to_state, from_level, to_level, to_deadline, note, "
                     "created_at",
}


def load(engine, rows) -> None:
    """Bulk insert: executemany on SQLite, COPY on PostgreSQL."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, username, name, password_hash, active, session_version, created_at) "
                          "VALUES (1, 'bench', 'bench', 'x', true, 1, '2025-09-01 00:00:00')"))
        conn.execute(text("INSERT INTO checklists (id, key, kind, title) VALUES (1, 'full', 'full', '检查表')"))
        conn.execute(text("INSERT INTO checklist_versions (id, checklist_id, number, content_hash, title, "
                          "source_file, loaded_at) VALUES (1, 1, 1, 'x', '检查表', 'full.toml', "
                          "'2025-09-01 00:00:00')"))
        raw = conn.connection.driver_connection
        for table, cols in COLUMNS.items():
            data = rows[table]
            if engine.dialect.name == "postgresql":
                with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for r in data:
                        copy.write_row(r)
            else:
                marks = ", ".join("?" * len(cols.split(",")))
                cur = raw.cursor()
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                                [tuple(_sqlite(v) for v in r) for r in data])
        if engine.dialect.name == "postgresql":
            for table in ("colleges", "labs", "lab_active_periods", "lab_closures", "inspections",
                          "missed_daily_checks", "rectification_tickets", "ticket_events", "users", "checklists",
                          "checklist_versions"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    # Statistics for the planner; on PostgreSQL also the visibility map, so index-only scans skip
    # the heap (autovacuum does this in production; right after a bulk COPY it has not run yet).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def _sqlite(v):
    # The formats SQLAlchemy's SQLite types store.
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", help="a PostgreSQL server URL; a fresh database is created on it and dropped after")
    ap.add_argument("--labs", type=int, default=5000)
    ap.add_argument("--colleges", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the data of a previous run (SQLite: bench/out/monthly_summary.sqlite3; "
                         "PostgreSQL: the database labsafe_bench kept by --keep)")
    ap.add_argument("--keep", action="store_true", help="PostgreSQL: keep the database labsafe_bench afterwards")
    args = ap.parse_args(argv)

    from app import create_app
    from app.extensions import db
    from app.reports import exports
    from app.reports.services import monthly_summary

    tmp = Path(tempfile.mkdtemp(prefix="labsafe-bench-"))
    pg_admin = pg_name = None
    reuse = False
    if args.pg:
        url = make_url(args.pg).set(drivername="postgresql+psycopg")
        pg_name = "labsafe_bench" if (args.keep or args.reuse) else f"labsafe_bench_{os.getpid()}"
        pg_admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with pg_admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": pg_name}).scalar()
            reuse = bool(args.reuse and exists)
            if exists and not reuse:
                conn.execute(text(f'DROP DATABASE "{pg_name}" WITH (FORCE)'))
            if not reuse:
                conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        db_url = url.set(database=pg_name).render_as_string(hide_password=False)
    else:
        out = Path(__file__).resolve().parent / "out"
        out.mkdir(exist_ok=True)
        db_file = out / "monthly_summary.sqlite3"
        reuse = args.reuse and db_file.exists()
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, INSTANCE_PATH=str(tmp))
    try:
        with app.app_context():
            db.create_all()
            if not reuse:
                t0 = time.perf_counter()
                rows = generate(args.colleges, args.labs)
                t1 = time.perf_counter()
                load(db.engine, rows)
                t2 = time.perf_counter()
                print(f"generated in {t1 - t0:.1f} s, loaded in {t2 - t1:.1f} s")
                del rows
            print(f"database: {db.engine.dialect.name} {db.engine.dialect.server_version_info or ''}")
            with db.engine.connect() as conn:
                for table in COLUMNS:
                    n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                    print(f"  {table:24s} {n:>10,d} rows")
            college_id = args.colleges // 2
            for label, cid in (("school-wide", None), (f"one college (id {college_id})", college_id)):
                times, cpu, summary = [], [], None
                for _ in range(args.repeat):
                    db.session.remove()
                    start, start_cpu = time.perf_counter(), time.process_time()
                    summary = monthly_summary(MONTH, cid, app.config, now=NOW, count_statements=True)
                    times.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                f = summary.total.current
                # SQLite runs in this process, so CPU time is the work itself; wall time also counts
                # waiting for a core on a busy machine (PostgreSQL's work is in its server: wall only).
                print(f"{label}: wall best {min(times):.3f} s, median {statistics.median(times):.3f} s; "
                      f"CPU best {min(cpu):.3f} s; {args.repeat} runs; {summary.statements} SQL statements; "
                      f"labs {f.labs}, compliance {f.compliance_pct}%, hazards {f.hazards}, "
                      f"rectified on time {f.rectified_on_time}, overdue {f.overdue}, "
                      f"median days {f.median_days_to_rectify}")
            with app.test_request_context():
                start = time.perf_counter()
                exports.to_xlsx(monthly_summary(MONTH, None, app.config, now=NOW), app.config["SCHOOL_TIMEZONE"])
                print(f"school-wide summary + XLSX export: {time.perf_counter() - start:.3f} s")
            db.session.remove()
            db.engine.dispose()
    finally:
        if pg_admin is not None and not args.keep:
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            pg_admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

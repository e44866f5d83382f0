"""Benchmark: importing a users CSV of 300 and 5,000 new users, as the import page does.

    .venv/bin/python -m bench.user_import                       # SQLite (a file under a temp dir)
    .venv/bin/python -m bench.user_import --pg postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.user_import --users 300 --mode passwords

Each run gets a new database with one college, then imports a generated file of new users (name,
e-mail, a role: inspector of the college) through ``csv_import.import_users``, the service the
import page and ``flask import-users`` call, inside a request context. ``--mode links``: no
password column (the users get set-password links); ``--mode passwords``: an initial password on
every row (each one a scrypt hash, ~130 ms of CPU on an idle core). Wall time and the process's CPU
time of the import are printed; a refused file prints its first error.
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time

from bench.scratch import scratch_postgres


def users_csv(n: int, with_passwords: bool) -> bytes:
    header = "username,name,email,roles" + (",password" if with_passwords else "")
    lines = [header]
    for i in range(1, n + 1):
        row = f"user{i:05d},用户{i},user{i:05d}@example.edu.cn,inspector:BENCH"
        lines.append(row + (f",initial-pw-{i:05d}" if with_passwords else ""))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(uri: str, n: int, mode: str) -> dict:
    from app import create_app
    from app.errors import DomainError
    from app.extensions import db
    from app.org import csv_import
    from app.org.models import College

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=tempfile.mkdtemp(prefix="labsafe-bench-"))
    with app.app_context():
        db.create_all()
        db.session.add(College(code="BENCH", name="基准学院"))
        db.session.commit()
        data = users_csv(n, mode == "passwords")
        with app.test_request_context("/admin/import/users", method="POST"):
            t, c = time.perf_counter(), _cpu()
            try:
                report = csv_import.import_users(data)
                result = f"{len(report.created)} created"
            except DomainError as err:
                db.session.rollback()
                result = "refused: " + (err.details.get("errors") or [err.message])[0]
            wall, cpu = time.perf_counter() - t, _cpu() - c
        db.session.remove()
        db.engine.dispose()
    return {"users": n, "mode": mode, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "result": result}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, action="append", help="user count (repeatable); default 300 and 5000")
    ap.add_argument("--mode", choices=["links", "passwords"], action="append",
                    help="links (no password column) or passwords; default both")
    ap.add_argument("--pg", help="PostgreSQL URL of a server to create a scratch database on")
    args = ap.parse_args(argv)
    for n in args.users or [300, 5000]:
        for mode in args.mode or ["links", "passwords"]:
            if args.pg:
                with scratch_postgres(args.pg, "labsafe_bench_import") as url:
                    out = measure(url, n, mode)
            else:
                out = measure(f"sqlite:///{tempfile.mkdtemp(prefix='labsafe-bench-')}/bench.sqlite3", n, mode)
            print(out, flush=True)


if __name__ == "__main__":
    main()

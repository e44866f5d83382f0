"""A scratch PostgreSQL database for one benchmark run: created on the given server, dropped after."""
from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_postgres(server_url: str, prefix: str = "labsafe_bench") -> Iterator[str]:
    """The URL (psycopg 3 driver) of a new, empty database on ``server_url``'s server; dropped on exit."""
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main_by_lab_count(measure, name: str, description: str, argv=None) -> None:
    """The command line of a benchmark measured at several lab counts, on SQLite (a temporary
    file) or on a scratch PostgreSQL database: ``measure(url, labs, is_postgres)`` per count."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--labs", type=int, action="append", help="lab count (repeatable); default 500 and 5000")
    ap.add_argument("--pg", help="PostgreSQL URL of a server to create a scratch database on")
    args = ap.parse_args(argv)
    for n in args.labs or [500, 5000]:
        if args.pg:
            with scratch_postgres(args.pg, f"labsafe_bench_{name}") as url:
                result = measure(url, n, True)
        else:
            path = os.path.join(tempfile.mkdtemp(prefix="labsafe-bench-"), f"{name}.sqlite3")
            result = measure(f"sqlite:///{path}", n, False)
        print(result, flush=True)

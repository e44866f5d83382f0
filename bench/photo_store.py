"""Storing a photo's files on the local disk against an S3-compatible server, and the files' locks.

    .venv/bin/python -m bench.photo_store [--runs N] [--pg URL]

What an upload does after decoding, per photo: take the three files' locks, look for each file and
write the missing ones (original ~1.2 MB as the phone sends it at 2048 px, display ~300 KB,
thumbnail ~20 KB), release; then serving reads the display copy back. Each run stores new bytes.

- local: LocalFileStorage in a temporary directory (fsync of each file, then rename);
- s3:    S3Storage against moto's server on 127.0.0.1, its own process (HEAD + PUT with
         Content-MD5 over loopback HTTP, boto3's signing). A real MinIO on the campus network adds
         its own disk writes and the network's round trips; this measures LabSafe's side of it.
- locks: on SQLite the flock beside the database; with --pg, PostgreSQL's advisory locks (one
         statement to lock the three keys, one to release, on a pooled connection).

Median wall milliseconds of N runs after one warm-up, and this process's CPU milliseconds per photo
(moto's CPU is its own process's, not counted).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid


def _wait_for_port(host: str, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"moto's server did not start on {host}:{port}")


def _blobs(i: int) -> list[bytes]:
    salt = uuid.uuid4().bytes + i.to_bytes(4, "big")
    return [salt + os.urandom(n) for n in (1_200_000, 300_000, 20_000)]


def _measure(name, store, lock, runs: int) -> dict:
    from app.photos.storage import content_key

    walls, cpus, reads = [], [], []
    for i in range(runs + 1):
        blobs = _blobs(i)
        keys = [content_key(b) for b in blobs]
        w0, c0 = time.perf_counter(), time.process_time()
        with lock(keys):
            for blob in blobs:
                store.put(blob)  # looks first (exists), writes when missing
        w1, c1 = time.perf_counter(), time.process_time()
        with store.open(keys[1]) as fh:
            fh.read()
        w2 = time.perf_counter()
        if i:  # the first run warms connections and imports
            walls.append((w1 - w0) * 1000)
            cpus.append((c1 - c0) * 1000)
            reads.append((w2 - w1) * 1000)
    return {"store": name, "put3_ms": statistics.median(walls), "put3_cpu_ms": statistics.median(cpus),
            "read_display_ms": statistics.median(reads)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--port", type=int, default=18850, help="for moto's server on 127.0.0.1")
    parser.add_argument("--pg", help="PostgreSQL URL: time the advisory locks there (default: SQLite's flock)")
    args = parser.parse_args()

    from app import create_app
    from app.photos import locks
    from app.photos.storage import LocalFileStorage, storage_for

    tmp = tempfile.mkdtemp(prefix="bench-photo-store-")
    # moto's server in a process of its own, so the CPU column is LabSafe's side (boto3) only.
    host, port = "127.0.0.1", args.port
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_port(host, port)
    url = args.pg or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=f"{tmp}/instance",
                     PHOTO_STORE="s3://bench/photos", PHOTO_S3_ENDPOINT_URL=f"http://{host}:{port}",
                     PHOTO_S3_REGION="us-east-1", PHOTO_S3_ACCESS_KEY_ID="bench", PHOTO_S3_SECRET_ACCESS_KEY="bench",
                     PHOTO_S3_PATH_STYLE=True)
    with app.app_context():
        s3 = storage_for(app.config)
        s3.client.create_bucket(Bucket=s3.bucket)
        local = LocalFileStorage(f"{tmp}/photos")

        def lock(keys):
            return locks.holding(app.config, keys)

        def no_lock(keys):
            import contextlib

            return contextlib.nullcontext()

        kind = "PostgreSQL advisory" if args.pg else "SQLite flock"
        rows = [_measure("local, no lock", local, no_lock, args.runs),
                _measure(f"local + {kind}", local, lock, args.runs),
                _measure("s3 (moto), no lock", s3, no_lock, args.runs),
                _measure(f"s3 (moto) + {kind}", s3, lock, args.runs)]
    server.terminate()
    server.wait(10)
    print(f"{'store':34} {'3 files ms':>11} {'CPU ms':>8} {'read display ms':>16}")
    for r in rows:
        print(f"{r['store']:34} {r['put3_ms']:11.1f} {r['put3_cpu_ms']:8.1f} {r['read_display_ms']:16.1f}")


if __name__ == "__main__":
    main()

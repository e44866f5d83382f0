"""A college's peak on SQLite: 50 inspectors submitting and reading at once against gunicorn.

    .venv/bin/python -m bench.sqlite_peak                         # both phases, 30 s each
    .venv/bin/python -m bench.sqlite_peak --inspectors 50 --duration 30 --phases peak

A site that would run on SQLite: one college, 50 inspectors on their phones at once. Each inspector
(a thread with its own session, logged in through POST /api/login as the PWA is) loops over its
work: scan a lab's door QR (GET /api/qr/<token>), open the lab's checklist (GET /api/labs/<id>/
checklists/full) and its recent inspections (GET /api/labs/<id>/inspections), upload a photo of
the hazard in one inspection of --photo-every (PUT /api/photos/<uuid>, a 2048x1536 JPEG, what the
PWA's downscale sends), submit the inspection (POST /api/inspections, every applicable item, one
fail with the photo, a new UUID) and open the tickets (GET /api/tickets). A submit that fails is
sent again with the same UUID after a second, as the PWA's outbox does, up to 3 times.

Two phases, --duration seconds each:
  peak   think 0.5-1.5 s between requests: every inspector at work at the same minute, each
         submitting every ~5 s (an inspection really takes minutes: this is ~60x a real peak)
  burst  no think time: 50 phones flushing their outboxes at the same moment, back to back

The server is gunicorn as README's deployment (ProductionConfig, 2 workers, gthread, 4 threads),
the demo university and the shipped checklists in a fresh SQLite file. At c87053e this bench also
served the app with the writers' queue beside it, which these figures then removed (docs/PERFORMANCE.md).

Afterwards the database is read: every submit answered 2xx must be there once (lost = answered but
missing, duplicated = more rows than UUIDs); "failed" counts submits never accepted after retries.
Prints one line per phase and a JSON line with every number (for docs/PERFORMANCE.md).
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from bench import load
from bench.write_contention import COOKIE, _multipart, _send, _summary, phone_photos

READS = ("qr", "checklist", "history", "tickets")


class Inspector(threading.Thread):
    def __init__(self, n: int, base: str, session: tuple[str, str], info: dict, bodies: list[str],
                 photos: list[bytes], think: float, photo_every: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.n, self.base, self.info, self.bodies, self.photos = n, base, info, bodies, photos
        self.cookie, self.token = session
        self.think, self.photo_every, self.stop = think, photo_every, stop
        self.rng = random.Random(n)
        self.latencies: dict[str, list[float]] = {k: [] for k in (*READS, "photo", "submit")}
        self.errors: dict[str, dict[int, int]] = {}
        self.accepted: list[str] = []
        self.failed = 0
        self.retries = 0

    def _request(self, kind: str, path: str, data: bytes | None = None, method: str = "GET",
                 content_type: str = "application/json") -> int:
        headers = {"Cookie": self.cookie, "User-Agent": load.USER_AGENT}
        if data is not None:
            headers.update({"Content-Type": content_type, "X-CSRFToken": self.token})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        t = time.perf_counter()
        try:
            status = _send(req)
        except OSError:  # a timeout or a refused connection
            status = 0
        self.latencies[kind].append((time.perf_counter() - t) * 1000)
        if status not in (200, 201):
            errors = self.errors.setdefault(kind, {})
            errors[status] = errors.get(status, 0) + 1
        return status

    def _pause(self) -> None:
        if self.think:
            self.stop.wait(self.rng.uniform(0.5 * self.think, 1.5 * self.think))

    def run(self) -> None:
        i = self.n
        while not self.stop.is_set():
            k = i % len(self.info["submit"])
            lab_id = self.info["submit"][k]["lab_id"]
            token = self.info["tokens"][self.info["lab_ids"].index(lab_id)]
            self._request("qr", f"/api/qr/{token}")
            self._pause()
            self._request("checklist", f"/api/labs/{lab_id}/checklists/full")
            self._request("history", f"/api/labs/{lab_id}/inspections")
            self._pause()
            body = json.loads(self.bodies[k])
            if self.photo_every and i % self.photo_every == 0:
                photo = str(uuid.uuid4())
                data, content_type = _multipart(self.photos[i % len(self.photos)])
                if self._request("photo", f"/api/photos/{photo}", data, "PUT", content_type) in (200, 201):
                    body["answers"][-1]["photos"] = [photo]
                self._pause()
            body["uuid"] = str(uuid.uuid4())
            data = json.dumps(body, ensure_ascii=False).encode()
            for attempt in range(4):
                if self._request("submit", "/api/inspections", data, "POST") in (200, 201):
                    self.accepted.append(body["uuid"])
                    break
                if attempt < 3:
                    self.retries += 1
                    time.sleep(1.0)
            else:
                self.failed += 1
            self._pause()
            self._request("tickets", "/api/tickets")
            self._pause()
            i += 1


def phase(base: str, sessions: list[tuple[str, str]], info: dict, bodies, photos, seconds: float, think: float,
          photo_every: int) -> tuple[dict, list[str]]:
    stop = threading.Event()
    crowd = [Inspector(n, base, session, info, bodies, photos, think, photo_every, stop)
             for n, session in enumerate(sessions)]
    for c in crowd:
        c.start()
    time.sleep(seconds)
    stop.set()
    for c in crowd:
        c.join(60)
    out: dict = {}
    for kind in (*READS, "photo", "submit"):
        lat = [x for c in crowd for x in c.latencies[kind]]
        errors: dict[int, int] = {}
        for c in crowd:
            for status, count in c.errors.get(kind, {}).items():
                errors[status] = errors.get(status, 0) + count
        out[kind] = {**_summary(lat), "per_s": round(len(lat) / seconds, 1), "errors": errors}
    accepted = [u for c in crowd for u in c.accepted]
    out["submits"] = {"accepted": len(accepted), "per_s": round(len(accepted) / seconds, 1),
                      "retries": sum(c.retries for c in crowd), "failed": sum(c.failed for c in crowd)}
    return out, accepted


def audit(database: Path, accepted: list[str]) -> dict:
    """Each accepted submit in the database exactly once."""
    con = sqlite3.connect(database)
    try:
        rows = con.execute("SELECT uuid FROM inspections").fetchall()
    finally:
        con.close()
    stored = [str(uuid.UUID(str(r[0]))) if r[0] is not None else None for r in rows]
    counts: dict[str, int] = {}
    for u in stored:
        counts[u] = counts.get(u, 0) + 1
    mine = set(accepted)
    return {"accepted": len(accepted), "lost": sum(1 for u in accepted if u not in counts),
            "duplicated": sum(n - 1 for u, n in counts.items() if u in mine and n > 1)}


def run(args, photos: list[bytes]) -> dict:
    with tempfile.TemporaryDirectory(prefix="labsafe-peak-") as tmp:
        workdir = Path(tmp)
        instance = workdir / "instance"
        database = instance / "bench.sqlite3"
        url = f"sqlite:///{database}"
        info = load.build_database(url, instance)
        server = load.Server("wsgi:app", load._app_env(url, instance), 2, 4, workdir / "labsafe.log")
        result: dict = {}
        accepted: list[str] = []
        try:
            server.wait("/api/csrf")
            bodies = load.submit_templates(info)
            # Logged in before the clock starts, one after the other: an inspector logs in once a
            # week, not at the peak (and 50 password hashes at once would be the only thing timed).
            sessions = [load.login(server.url, "inspector", COOKIE) for _ in range(args.inspectors)]
            for label, think in (("peak", args.think), ("burst", 0.0)):
                if args.phases and label not in args.phases:
                    continue
                result[label], got = phase(server.url, sessions, info, bodies, photos, args.duration, think,
                                           args.photo_every)
                accepted += got
                print(f"{label:>5}: {json.dumps(result[label])}", flush=True)
        finally:
            server.stop()
        result["audit"] = audit(database, accepted)
        log = (workdir / "labsafe.log").read_text(errors="replace")
        result["locked_in_log"] = log.count("database is locked")
        print(f"audit: {result['audit']}, 'database is locked' in the log: {result['locked_in_log']}",
              flush=True)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inspectors", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per phase (default 30)")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between requests in the peak phase, s")
    ap.add_argument("--photo-every", type=int, default=4, help="one inspection in N carries a photo (0: none)")
    ap.add_argument("--phases", nargs="*", choices=["peak", "burst"], help="only these phases")
    args = ap.parse_args(argv)
    photos = phone_photos()
    result = run(args, photos)
    print(json.dumps({"inspectors": args.inspectors, "duration_s": args.duration, "think_s": args.think,
                      "photo_every": args.photo_every, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

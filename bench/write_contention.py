"""Inspection submits beside other writers on SQLite: does a slow writer hold up the rest?

    .venv/bin/python -m bench.write_contention                  # 3 clients beside, 20 s per phase
    .venv/bin/python -m bench.write_contention --clients 6 --duration 30 --only photos

SQLite has one write lock for the whole database. Some writing requests spend long stretches of
CPU before their rows are written: a photo upload decodes and resizes the image (tens of ms for the
PWA's 2048 px JPEG, more for a full-size one) after its body has arrived; a login verifies a
password hash (~130 ms of scrypt by design). Whatever holds the write lock during that time makes
every inspection submit wait, up to the 5 s busy_timeout, then fail.

The demo university and the shipped checklists in a fresh SQLite database (as bench.load), LabSafe
under gunicorn (ProductionConfig, 2 workers, gthread, 4 threads each). One client submits
inspections back to back (bench.load's body: every applicable item, one fail, a new UUID each) for
--duration seconds alone, then as long again beside each kind of writer, --clients of them back to
back: "photos" PUT photos (each a new UUID; six different JPEGs of 2048x1536 at quality 0.85, what
the PWA's downscale sends), "logins" log in (right password, the demo users in turn, a new session
each). Prints the submit latencies of each phase, the other writers' rate and every non-2xx.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from bench import load

COOKIE = "__Host-labsafe_session"


def phone_photos(n: int = 6) -> list[bytes]:
    """n different 2048x1536 JPEGs at quality 85 (the PWA's photo.js downscale), photo-like content."""
    from PIL import Image, ImageDraw, ImageFilter

    out = []
    for i in range(n):
        img = Image.effect_noise((2048, 1536), 40 + 5 * i).convert("RGB")
        draw = ImageDraw.Draw(img)
        for k in range(12):
            x, y = (k * 173 + i * 97) % 1900, (k * 131 + i * 53) % 1400
            draw.rectangle((x, y, x + 150 + 10 * i, y + 120), fill=(40 * k % 255, 90 + i * 20, 200 - 10 * k))
        img = img.filter(ImageFilter.GaussianBlur(1.2))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _send(req: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code


class Submitter(threading.Thread):
    def __init__(self, base: str, cookie: str, token: str, bodies: list[str], seconds: float):
        super().__init__(daemon=True)
        self.base, self.cookie, self.token, self.bodies, self.seconds = base, cookie, token, bodies, seconds
        self.latencies: list[float] = []
        self.failures: dict[int, int] = {}

    def run(self):
        end = time.monotonic() + self.seconds
        i = 0
        while time.monotonic() < end:
            body = self.bodies[i % len(self.bodies)].replace("@UUID@", str(uuid.uuid4())).encode()
            req = urllib.request.Request(self.base + "/api/inspections", data=body, method="POST", headers={
                "Content-Type": "application/json", "X-CSRFToken": self.token, "Cookie": self.cookie,
                "User-Agent": load.USER_AGENT})
            t = time.perf_counter()
            status = _send(req)
            self.latencies.append((time.perf_counter() - t) * 1000)
            if status not in (200, 201):
                self.failures[status] = self.failures.get(status, 0) + 1
            i += 1


class Writer(threading.Thread):
    """One client beside the submits: ``request(i)`` builds its i-th request, sent back to back until stopped."""

    def __init__(self, request, stop: threading.Event, n: int):
        super().__init__(daemon=True)
        self.request, self.stop, self.n = request, stop, n
        self.done = 0
        self.latencies: list[float] = []
        self.failures: dict[int, int] = {}

    def run(self):
        i = self.n
        while not self.stop.is_set():
            req = self.request(i)
            t = time.perf_counter()
            status = _send(req)
            self.latencies.append((time.perf_counter() - t) * 1000)
            if status in (200, 201):
                self.done += 1
            else:
                self.failures[status] = self.failures.get(status, 0) + 1
            i += 1


def photo_uploads(base: str, cookie: str, token: str, photos: list[bytes]):
    def request(i: int) -> urllib.request.Request:
        body, content_type = _multipart(photos[i % len(photos)])
        return urllib.request.Request(f"{base}/api/photos/{uuid.uuid4()}", data=body, method="PUT", headers={
            "Content-Type": content_type, "X-CSRFToken": token, "Cookie": cookie, "User-Agent": load.USER_AGENT})
    return request


def logins(base: str, usernames: list[str]):
    """A login as the PWA sends it: the CSRF cookie and token of the login page, then POST /api/login."""
    def request(i: int) -> urllib.request.Request:
        r = urllib.request.urlopen(urllib.request.Request(base + "/api/csrf", headers={"User-Agent": load.USER_AGENT}))
        pre = load._cookie(r, COOKIE)
        token = json.loads(r.read())["csrf_token"]
        body = json.dumps({"username": usernames[i % len(usernames)], "password": load.DEMO_PASSWORD}).encode()
        return urllib.request.Request(base + "/api/login", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-CSRFToken": token, "Cookie": f"{COOKIE}={pre}",
            "User-Agent": load.USER_AGENT})
    return request


def _summary(latencies: list[float]) -> dict:
    s = sorted(latencies)
    if not s:
        return {"n": 0}
    return {"n": len(s), "p50_ms": round(statistics.median(s), 1), "p95_ms": round(s[int(0.95 * (len(s) - 1))], 1),
            "p99_ms": round(s[int(0.99 * (len(s) - 1))], 1), "max_ms": round(s[-1], 1)}


def _beside(kind: str, request, clients: int, seconds: float, base, cookie, token, bodies) -> dict:
    stop = threading.Event()
    writers = [Writer(request, stop, n) for n in range(clients)]
    for w in writers:
        w.start()
    time.sleep(1.0)  # the other writers are under way before the submits are timed
    t0 = time.monotonic()
    submits = Submitter(base, cookie, token, bodies, seconds)
    submits.run()
    stop.set()
    for w in writers:
        w.join(60)
    elapsed = time.monotonic() - t0 + 1.0
    lat = [x for w in writers for x in w.latencies]
    return {
        "submits": {**_summary(submits.latencies), "failures": submits.failures},
        kind: {
            **_summary(lat),
            "per_s": round(sum(w.done for w in writers) / elapsed, 1),
            "failures": {
                k: sum(w.failures.get(k, 0) for w in writers) for k in {k for w in writers for k in w.failures}
            },
        },
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=3, help="writers beside the submits (default 3)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per phase (default 20)")
    ap.add_argument("--only", nargs="*", choices=["photos", "logins"], help="only these phases beside")
    args = ap.parse_args(argv)
    kinds = args.only or ["photos", "logins"]

    photos = phone_photos()
    print(f"photos: {len(photos)} JPEGs of 2048x1536, {min(map(len, photos)) // 1024}-"
          f"{max(map(len, photos)) // 1024} KB", flush=True)
    result = {"clients": args.clients, "duration_s": args.duration}
    with tempfile.TemporaryDirectory(prefix="labsafe-write-bench-") as tmp:
        workdir = Path(tmp)
        instance = workdir / "instance"
        url = f"sqlite:///{instance / 'bench.sqlite3'}"
        info = load.build_database(url, instance)
        from app.demo import data as demo

        usernames = [u for u, *_ in demo.logins()]
        server = load.Server("wsgi:app", load._app_env(url, instance), 2, 4, workdir / "labsafe.log")
        try:
            server.wait("/api/csrf")
            cookie, token = load.login(server.url, "inspector", COOKIE)
            bodies = load.submit_templates(info)
            Submitter(server.url, cookie, token, bodies, 2.0).run()  # warm
            alone = Submitter(server.url, cookie, token, bodies, args.duration)
            alone.run()
            result["alone"] = {"submits": {**_summary(alone.latencies), "failures": alone.failures}}
            requests = {"photos": lambda: photo_uploads(server.url, cookie, token, photos),
                        "logins": lambda: logins(server.url, usernames)}
            for kind in kinds:
                result[f"beside_{kind}"] = _beside(kind, requests[kind](), args.clients, args.duration,
                                                   server.url, cookie, token, bodies)
        finally:
            server.stop()
    for phase, parts in result.items():
        if isinstance(parts, dict):
            for name, numbers in parts.items():
                print(f"{phase:>14} {name:>8}: {numbers}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

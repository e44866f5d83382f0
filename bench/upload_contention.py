"""Inspection submits while photos upload, on SQLite (issue 8): does a photo hold up other writers?

    .venv/bin/python -m bench.upload_contention                   # 3 uploaders, 20 s per phase
    .venv/bin/python -m bench.upload_contention --uploaders 6 --duration 30

SQLite has one write lock for the whole database. A photo upload decodes and resizes the image
(tens of ms of CPU for the PWA's 2048 px JPEG, more for a full-size one), and its request arrives
body first: whatever holds the write lock during that time makes every inspection submit wait.

The demo university and the shipped checklists in a fresh SQLite database (as bench.load), LabSafe
under gunicorn (ProductionConfig, 2 workers, gthread, 4 threads each). One client submits
inspections back to back (bench.load's body: every applicable item, one fail, a new UUID each) for
--duration seconds alone, then as long again while --uploaders clients PUT photos back to back
(each a new UUID; six different JPEGs of 2048x1536 at quality 0.85, what the PWA's downscale
sends). Prints the submit latencies of both phases, the uploads per second and every non-2xx.
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


class Uploader(threading.Thread):
    def __init__(self, base: str, cookie: str, token: str, photos: list[bytes], stop: threading.Event, n: int):
        super().__init__(daemon=True)
        self.base, self.cookie, self.token, self.photos, self.stop, self.n = base, cookie, token, photos, stop, n
        self.done = 0
        self.latencies: list[float] = []
        self.failures: dict[int, int] = {}

    def run(self):
        i = self.n
        while not self.stop.is_set():
            body, content_type = _multipart(self.photos[i % len(self.photos)])
            req = urllib.request.Request(f"{self.base}/api/photos/{uuid.uuid4()}", data=body, method="PUT", headers={
                "Content-Type": content_type, "X-CSRFToken": self.token, "Cookie": self.cookie,
                "User-Agent": load.USER_AGENT})
            t = time.perf_counter()
            status = _send(req)
            self.latencies.append((time.perf_counter() - t) * 1000)
            if status in (200, 201):
                self.done += 1
            else:
                self.failures[status] = self.failures.get(status, 0) + 1
            i += 1


def _summary(latencies: list[float]) -> dict:
    s = sorted(latencies)
    if not s:
        return {"n": 0}
    return {"n": len(s), "p50_ms": round(statistics.median(s), 1), "p95_ms": round(s[int(0.95 * (len(s) - 1))], 1),
            "p99_ms": round(s[int(0.99 * (len(s) - 1))], 1), "max_ms": round(s[-1], 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uploaders", type=int, default=3)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per phase (default 20)")
    args = ap.parse_args(argv)

    photos = phone_photos()
    print(f"photos: {len(photos)} JPEGs of 2048x1536, {min(map(len, photos)) // 1024}-"
          f"{max(map(len, photos)) // 1024} KB", flush=True)
    with tempfile.TemporaryDirectory(prefix="labsafe-upload-bench-") as tmp:
        workdir = Path(tmp)
        instance = workdir / "instance"
        url = f"sqlite:///{instance / 'bench.sqlite3'}"
        info = load.build_database(url, instance)
        server = load.Server("wsgi:app", load._app_env(url, instance), 2, 4, workdir / "labsafe.log")
        try:
            server.wait("/api/csrf")
            cookie, token = load.login(server.url, "inspector", COOKIE)
            bodies = load.submit_templates(info)
            warm = Submitter(server.url, cookie, token, bodies, 2.0)
            warm.run()
            alone = Submitter(server.url, cookie, token, bodies, args.duration)
            alone.run()
            stop = threading.Event()
            uploaders = [Uploader(server.url, cookie, token, photos, stop, n) for n in range(args.uploaders)]
            for u in uploaders:
                u.start()
            time.sleep(1.0)  # the uploads are under way before the submits are timed
            t0 = time.monotonic()
            beside = Submitter(server.url, cookie, token, bodies, args.duration)
            beside.run()
            stop.set()
            for u in uploaders:
                u.join(60)
            elapsed = time.monotonic() - t0 + 1.0
        finally:
            server.stop()
    upload_latencies = [x for u in uploaders for x in u.latencies]
    result = {
        "submit_alone": {**_summary(alone.latencies), "failures": alone.failures},
        "submit_beside_uploads": {**_summary(beside.latencies), "failures": beside.failures},
        "uploads": {**_summary(upload_latencies), "per_s": round(sum(u.done for u in uploaders) / elapsed, 1),
                    "failures": {k: sum(u.failures.get(k, 0) for u in uploaders)
                                 for k in {k for u in uploaders for k in u.failures}}},
        "uploaders": args.uploaders, "duration_s": args.duration,
    }
    for name in ("submit_alone", "submit_beside_uploads", "uploads"):
        print(f"{name:>22}: {result[name]}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

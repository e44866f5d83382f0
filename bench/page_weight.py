"""Page weight: the first load of the inspector's lab card on a phone, in Debian's Chromium.

    .venv/bin/python -m bench.page_weight

A fresh browser profile (empty HTTP cache, no service worker), logged in through the JSON API so
no other page loads first, opens /app/labs/<id> and waits until the lab card is drawn, the
service worker is active and the shell pages and offline bundle are cached.

Two measurements, both printed:
- "page": what the page itself transferred, from Chromium's DevTools protocol
  (Network.loadingFinished encodedDataLength = bytes on the wire, headers included), by type;
- "first visit, everything": every response the server sent during that load, including what the
  service worker precached (its requests are not in the page's DevTools session), measured by a
  WSGI middleware: raw body bytes as served, and each body gzip-compressed (level 6) by us,
  i.e. what a reverse proxy with gzip on would send.
The development server does not compress, so encodedDataLength is the uncompressed size.
"""
from __future__ import annotations

import gzip
import json
import tempfile
import threading
from collections import defaultdict

from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class Meter:
    """WSGI middleware: remembers every response's path, type and body size (raw and gzipped)."""

    def __init__(self, app):
        self.app = app
        self.rows: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        captured = {}

        def sr(status, headers, exc_info=None):
            captured["type"] = dict(headers).get("Content-Type", "")
            captured["status"] = status
            return start_response(status, headers, exc_info)

        body = b"".join(self.app(environ, sr))
        with self.lock:
            self.rows.append({
                "path": environ.get("PATH_INFO", ""), "type": captured.get("type", ""),
                "raw": len(body), "gzip": len(gzip.compress(body, 6)) if body else 0,
            })
        return [body]


def _kind(path: str, ctype: str) -> str:
    if path.endswith(".js") or "javascript" in ctype:
        return "js"
    if path.endswith(".css"):
        return "css"
    if ctype.startswith("image/"):
        return "icons/images"
    if "html" in ctype:
        return "html"
    return "json/other"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from app import create_app
    from app.auth.models import Role
    from app.extensions import db
    from tests.factories import (
        DEFAULT_PASSWORD,
        load_shipped_checklists,
        make_college,
        make_lab,
        make_ticket,
        make_user,
    )

    tmp = tempfile.mkdtemp(prefix="labsafe-bench-")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.sqlite3", INSTANCE_PATH=tmp,
                     RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
        load_shipped_checklists()
        college = make_college()
        labs = [make_lab(college, category="chemistry", hazard_tags=["hazardous_chemicals"]) for _ in range(20)]
        for lab in labs[:5]:
            make_user(Role.lab_officer, lab=lab)
            make_ticket(lab)
        inspector = make_user(Role.inspector, college=college)
        lab_id, username = labs[0].id, inspector.username

    meter = Meter(app.wsgi_app)
    app.wsgi_app = meter
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    page_bytes: dict[str, int] = defaultdict(int)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
            ctx = browser.new_context(base_url=base, viewport={"width": 390, "height": 844}, is_mobile=True,
                                      has_touch=True, device_scale_factor=2)
            token = ctx.request.get("/api/csrf").json()["csrf_token"]
            resp = ctx.request.post("/api/login", data=json.dumps({"username": username, "password": DEFAULT_PASSWORD}),
                                    headers={"Content-Type": "application/json", "X-CSRFToken": token})
            assert resp.ok, resp.text()
            meter.rows.clear()
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            types: dict[str, str] = {}
            cdp.on("Network.responseReceived", lambda e: types.__setitem__(e["requestId"], e["type"]))
            cdp.on(
                "Network.loadingFinished",
                lambda e: page_bytes.__setitem__(
                    types.get(e["requestId"], "Other"),
                    page_bytes[types.get(e["requestId"], "Other")] + e["encodedDataLength"],
                ),
            )
            page.goto(f"/app/labs/{lab_id}")
            page.wait_for_selector("#lab-card:not([hidden])")
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            for _ in range(200):
                if page.evaluate("""async () => Boolean(await caches.match('/app/shell/inspect'))
                                    && Boolean(await caches.match('/api/offline/bundle'))"""):
                    break
                page.wait_for_timeout(50)
            page.wait_for_load_state("networkidle")
            browser.close()
    finally:
        server.shutdown()

    print("Page weight: first load of the inspector's lab card (/app/labs/<id>), 390x844 phone, Chromium")
    print("\n[page] bytes on the wire per resource type (CDP encodedDataLength; server does not compress)")
    for kind, n in sorted(page_bytes.items()):
        print(f"  {kind:<12} {n / 1024:8.1f} KB")
    print(f"  {'total':<12} {sum(page_bytes.values()) / 1024:8.1f} KB")

    by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in meter.rows:
        k = _kind(r["path"], r["type"])
        by[k][0] += 1
        by[k][1] += r["raw"]
        by[k][2] += r["gzip"]
    print("\n[first visit, everything incl. service-worker precache] response bodies (WSGI middleware)")
    print(f"  {'kind':<13}{'responses':>10}{'raw KB':>10}{'gzip KB':>10}")
    for k, (n, raw, gz) in sorted(by.items()):
        print(f"  {k:<13}{n:>10}{raw / 1024:>10.1f}{gz / 1024:>10.1f}")
    tot = [sum(v[i] for v in by.values()) for i in range(3)]
    print(f"  {'total':<13}{tot[0]:>10}{tot[1] / 1024:>10.1f}{tot[2] / 1024:>10.1f}")
    shell = sum(v[2] for k, v in by.items() if k != "json/other")
    js = by["js"]
    print(f"\napp shell (HTML+CSS+JS+icons), gzip: {shell / 1024:.1f} KB (target < 200 KB)")
    print(f"JavaScript, raw: {js[1] / 1024:.1f} KB, gzip: {js[2] / 1024:.1f} KB (target < 60 KB)")


if __name__ == "__main__":
    main()

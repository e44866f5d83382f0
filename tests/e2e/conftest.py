"""End-to-end fixtures: the real app served on 127.0.0.1 from a thread, Debian's Chromium, phones.

The database is the suite's fresh per-test one (SQLite file; PostgreSQL when TEST_DATABASE_URL is
set), filled by factories and the shipped checklists.
"""
from __future__ import annotations

import io
import os
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("LABSAFE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# A phone set to Chinese, as the school's phones are: the browser's language now counts when nobody
# chose one (app._select_locale), and headless Chromium would otherwise say en-US.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2,
         "locale": "zh-CN"}
TIMEOUT_MS = 20_000


@contextmanager
def serving(app, middleware=None):
    """The app on 127.0.0.1 (a free port) from a thread, with ``middleware`` (a WSGI callable that
    passes requests on to its ``.app``: a test's gate or meter) in front of it for the time being.
    Yields the port."""
    original = app.wsgi_app
    if middleware is not None:
        middleware.app = original
        app.wsgi_app = middleware
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="labsafe-e2e-server", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.wsgi_app = original


@pytest.fixture
def live_server(app):
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def phone(browser, live_server):
    """A factory of phone-sized browser contexts (one per person), closed after the test."""
    contexts = []

    def new_phone():
        ctx = browser.new_context(base_url=live_server, service_workers="allow", **PHONE)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx

    yield new_phone
    for ctx in contexts:
        ctx.close()


def jpeg_bytes(width: int = 3000, height: int = 2000, colour=(180, 40, 40)) -> bytes:
    """A real camera-sized JPEG (the phone downscales it to 2048 px before upload)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(img)
    for x in range(0, width, 100):
        draw.line([(x, 0), (width - x, height)], fill=(255, 255, 255), width=8)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def photo_file(name: str = "hazard.jpg") -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_bytes()}

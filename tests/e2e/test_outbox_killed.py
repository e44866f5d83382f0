"""The app killed mid-photo (issue 21): the phone closes the page while a photo is half uploaded on a
slow link; the next start sends only the rest, and the photo lands once, whole.

The browser reaches the real app through a TCP proxy on 127.0.0.1 that forwards what the phone sends
at 40 KB/s (DevTools' emulation delays an upload and then sends it whole, so it cannot cut one);
when the phone's side closes, the proxy ends the request short, as a dropped phone does. A WSGI
middleware notes each upload request's offset and length.
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inspections.models import Inspection
from app.photos.models import Photo
from app.photos.storage import staging_for

from .conftest import serving
from .proxy import TcpProxy
from .test_inspector_flow import _count, _queue_offline_inspection, _until, _world

UP_BYTES_PER_S = 40_000


class SlowProxy(TcpProxy):
    """The phone's bytes forwarded at UP_BYTES_PER_S. cut() drops every open connection at once, as
    the radio going with the app does: the server gets the end of what got through, the bytes still
    on their way are lost."""

    def __init__(self, target_port: int):
        self.generation = 0
        super().__init__(target_port)

    def _up(self, client, upstream):
        born = self.generation
        try:
            while self.generation == born and (data := client.recv(4096)):
                upstream.sendall(data)
                time.sleep(len(data) / UP_BYTES_PER_S)
        except OSError:
            pass
        self._reset(upstream, hard=False)
        self._reset(client)

    def cut(self):
        self.generation += 1


class UploadLog:
    def __init__(self):
        self.app = None  # set by serving()
        self.patches: list[tuple[int, int]] = []  # (Upload-Offset, Content-Length) of each PATCH

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PATCH" and environ.get("PATH_INFO", "").endswith("/upload"):
            self.patches.append((int(environ.get("HTTP_UPLOAD_OFFSET") or -1), int(environ.get("CONTENT_LENGTH") or 0)))
        return self.app(environ, start_response)


@pytest.fixture
def uploads():
    return UploadLog()


@pytest.fixture
def proxy(app, uploads):
    with serving(app, uploads) as port:
        proxy = SlowProxy(port)
        try:
            yield proxy
        finally:
            proxy.close()


@pytest.fixture
def live_server(proxy):
    return f"http://127.0.0.1:{proxy.port}"


def _noisy_jpeg() -> bytes:
    """A photo of ~200 KB that the phone keeps as it is (under 2048 px; noise does not compress)."""
    from PIL import Image

    img = Image.effect_noise((800, 600), 60).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _staged_bytes(config) -> int:
    root = Path(staging_for(config).root)
    return sum(p.stat().st_size for p in root.glob("*.part")) if root.exists() else 0


def test_a_photo_cut_off_by_the_app_being_killed_resumes_from_what_arrived(app, phone, proxy, uploads):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _queue_offline_inspection(ctx, page, w, photo={"name": "noise.jpg", "mimeType": "image/jpeg",
                                                   "buffer": _noisy_jpeg()})
    size = page.evaluate("""async () => {
        const { items } = await import('/static/js/outbox.js');
        return (await items()).find((i) => i.kind === 'photo').blob.size; }""")

    # The signal returns, slow: the report goes, the photo creeps.
    ctx.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector('#done[data-state="submitted"]')
    assert _count(Inspection) == 1
    for _ in range(300):
        if _staged_bytes(app.config) > 16 + size * 0.3:  # a 16-byte header, then the bytes
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the photo never started arriving")
    proxy.cut()  # the phone kills the app mid-photo: its connection goes
    page.close()  # and so does the page

    page = ctx.new_page()  # the next start, at full speed: app.js replays the outbox
    page.goto("/app")
    # The badge says 0 before the page has read the outbox: wait for the outbox itself to empty.
    _until(page, """async () => {
        const { items } = await import('/static/js/outbox.js');
        return (await items()).length === 0; }""")
    assert _count(Photo) == 1
    photo = db.session.scalar(select(Photo))
    first_offset, _first_len = uploads.patches[0]
    resume_offset, resume_len = uploads.patches[-1]
    assert first_offset == 0 and len(uploads.patches) >= 2
    assert resume_offset > size * 0.3 and resume_len == size - resume_offset  # only the rest went again
    assert photo.byte_size == size

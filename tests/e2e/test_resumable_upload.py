"""A photo upload cut at 90 % by the network resumes from where it stopped (static/js/upload.js).

The browser talks to the live server through a small TCP proxy on 127.0.0.1 that counts the bytes
of every PATCH body it forwards and, once, resets the connection after 90 % of the photo.
"""
from __future__ import annotations

import base64
import hashlib
import threading

import pytest

from app.auth.models import Role
from tests.factories import make_college, make_user, photo_bytes
from tests.factories.inspections import new_uuid

from .proxy import TcpProxy
from .test_inspector_flow import _open


class CuttingProxy(TcpProxy):
    """Forwards 127.0.0.1:<port> to the server; counts PATCH body bytes; cuts one body at `cut_at`."""

    def __init__(self, target_port: int):
        self.cut_at: int | None = None  # armed: reset the connection after this many body bytes
        self.patch_body_bytes = 0
        self.cuts = 0
        self.lock = threading.Lock()
        super().__init__(target_port)

    def _up(self, client, upstream):
        head, body_left, patch, sent = b"", 0, False, 0  # request parsing state on this connection
        try:
            while data := client.recv(65536):
                while data:
                    if body_left == 0:  # in a request's head
                        head += data
                        if b"\r\n\r\n" not in head:
                            upstream.sendall(data)
                            data = b""
                            continue
                        end = head.index(b"\r\n\r\n") + 4
                        rest = head[end:]
                        upstream.sendall(data[: len(data) - len(rest)])
                        lines = head[:end].decode("latin-1").split("\r\n")
                        patch = lines[0].startswith("PATCH ")
                        body_left = next((int(x.split(":", 1)[1]) for x in lines
                                          if x.lower().startswith("content-length:")), 0)
                        head, sent, data = b"", 0, rest
                        continue
                    part, data = data[:body_left], data[body_left:]
                    if patch:
                        with self.lock:
                            if self.cut_at is not None and sent + len(part) >= self.cut_at:
                                part = part[: self.cut_at - sent]
                                upstream.sendall(part)
                                self.patch_body_bytes += len(part)
                                self.cut_at, self.cuts = None, self.cuts + 1
                                self._reset(client)
                                self._reset(upstream, hard=False)
                                return
                            self.patch_body_bytes += len(part)
                    upstream.sendall(part)
                    sent += len(part)
                    body_left -= len(part)
        except OSError:
            pass
        self._reset(upstream, hard=False)



@pytest.fixture
def proxy(live_server):
    p = CuttingProxy(int(live_server.rsplit(":", 1)[1]))
    yield p
    p.close()


UPLOAD = """async ([id, b64, attempts]) => {
    const { uploadPhoto } = await import('/static/js/upload.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const item = { id, blob: new Blob([bytes], { type: 'image/jpeg' }), attempts };
    const progress = [];
    try {
        const r = await uploadPhoto(item, (done, total) => progress.push([done, total]));
        return { status: r.status, ok: r.ok, data: r.data, progress };
    } catch (e) {
        return { thrown: e.name, progress };
    }
}"""


def test_an_upload_cut_at_90_percent_resumes_and_sends_the_rest_only(phone, proxy):
    inspector = make_user(Role.inspector, college=make_college())
    page = phone().new_page()
    _open(page, f"http://127.0.0.1:{proxy.port}/app", inspector)
    page.wait_for_url("**/app**")
    data = photo_bytes((900, 700), noise=True, taken="2026:11:20 10:11:12")  # ~0.5 MB
    uuid, b64 = new_uuid(), base64.b64encode(data).decode()

    proxy.cut_at = len(data) * 9 // 10
    first = page.evaluate(UPLOAD, [uuid, b64, 0])
    assert first["thrown"] == "TypeError" and proxy.cuts == 1  # the network's error, as fetch gives it
    assert proxy.patch_body_bytes == len(data) * 9 // 10

    again = page.evaluate(UPLOAD, [uuid, b64, 1])  # the outbox's next try
    assert again.get("status") == 201, again
    assert again["data"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert again["data"]["captured_at"].startswith("2026-11-20T02:11:12")
    assert again["progress"][0] == [len(data) * 9 // 10, len(data)]  # resumed from the server's offset
    assert again["progress"][-1] == [len(data), len(data)]
    # Over both attempts the server received the photo once, not 1.9 times.
    assert len(data) <= proxy.patch_body_bytes < 1.15 * len(data)

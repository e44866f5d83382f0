"""Uploaded photos are served with their real type and never as HTML."""
from __future__ import annotations

import io
import uuid

import pytest

from tests.factories import login, photo_bytes
from tests.factories.inspections import make_small_world


@pytest.fixture
def w(app):
    return make_small_world()


def _put(client, photo_uuid, data, filename, content_type):
    return client.put(f"/api/photos/{photo_uuid}", data={"file": (io.BytesIO(data), filename, content_type)},
                      content_type="multipart/form-data")


def test_served_photo_has_an_image_type_and_nosniff(client, w):
    login(client, w.inspector_a)
    pid = str(uuid.uuid4())
    # The client claims HTML; the server decides by decoding the bytes.
    resp = _put(client, pid, photo_bytes((80, 60), fmt="PNG"), "evil.html", "text/html")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    for variant in ("thumb", "display"):
        got = client.get(f"/photos/{pid}/{variant}")
        assert got.status_code == 200, (variant, got.status_code)
        assert got.mimetype.startswith("image/"), got.mimetype
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert "html" not in got.headers["Content-Type"]
        # The photo view's own policy (nothing at all may run in it) wins over the site policy.
        csp = got.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp or "script-src 'self'" in csp


@pytest.mark.parametrize(
    "data,filename,content_type",
    [
        (b"<!doctype html><html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg"),
        (b"<html><body onload=alert(1)>", "page.html", "text/html"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg", "image/svg+xml"),
        (b"\xff\xd8\xff\xe0<html><script>alert(1)</script>", "half.jpg", "image/jpeg"),
    ],
)
def test_html_and_svg_uploads_are_refused_and_leave_nothing(app, client, w, data, filename, content_type):
    import os

    login(client, w.inspector_a)
    pid = str(uuid.uuid4())
    resp = _put(client, pid, data, filename, content_type)
    assert resp.status_code in (400, 415), resp.status_code
    assert resp.is_json and resp.get_json()["error"]["status"] == resp.status_code
    assert client.get(f"/photos/{pid}/display").status_code == 404
    leftovers = [f for _r, _d, fs in os.walk(app.config["PHOTO_STORE"]) for f in fs]
    assert leftovers == []

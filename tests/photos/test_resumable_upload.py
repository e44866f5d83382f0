"""GET/PATCH /api/photos/<uuid>/upload: a photo in parts, resumed after a dropped connection."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import threading
import time

import pytest
from werkzeug.serving import make_server

from app.photos import services
from app.photos.storage import staging_for
from tests.factories import login, photo_bytes
from tests.factories.inspections import make_small_world, new_uuid

from .test_upload import photo_count

DAY = 24 * 3600


@pytest.fixture
def w(app):
    return make_small_world()


@pytest.fixture
def data():
    return photo_bytes((400, 300), noise=True, taken="2026:11:20 10:11:12")  # ~100 kB, a real JPEG


def patch(client, uuid, body: bytes, offset: int, total: int):
    return client.patch(f"/api/photos/{uuid}/upload", data=body, content_type="application/octet-stream",
                        headers={"Upload-Offset": str(offset), "Upload-Length": str(total)})


def status(client, uuid) -> dict:
    r = client.get(f"/api/photos/{uuid}/upload")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def staged_files(app) -> list[str]:
    root = staging_for(app.config).root
    return sorted(os.listdir(root)) if root.is_dir() else []


def test_parts_in_order_store_the_photo_once_and_the_staging_goes(app, client, w, data):
    login(client, w.inspector_a)
    uuid, third = new_uuid(), len(data) // 3
    assert status(client, uuid) == {"offset": 0, "total": None, "complete": False}
    r = patch(client, uuid, data[:third], 0, len(data))
    assert r.status_code == 202 and r.get_json() == {"offset": third, "total": len(data), "complete": False}
    assert status(client, uuid) == r.get_json()
    assert patch(client, uuid, data[third:2 * third], third, len(data)).status_code == 202
    done = patch(client, uuid, data[2 * third:], 2 * third, len(data))
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert body["complete"] and body["offset"] == body["total"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["uuid"] == uuid
    assert body["captured_at"].startswith("2026-11-20T02:11:12")  # the same pipeline as PUT
    assert photo_count() == 1 and staged_files(app) == []
    # Asked again (the answer to the last part was lost): complete, the same photo, nothing new.
    assert status(client, uuid) == {**body, "uploaded_at": status(client, uuid)["uploaded_at"]}
    again = patch(client, uuid, b"", len(data), len(data))
    assert again.status_code == 200 and again.get_json()["sha256"] == body["sha256"]
    # The same bytes again as one part: a replay, as PUT's.
    assert patch(client, uuid, data, 0, len(data)).status_code == 200
    assert photo_count() == 1 and staged_files(app) == []


def test_a_replayed_or_overlapping_part_adds_only_what_is_new(client, w, data):
    login(client, w.inspector_a)
    uuid = new_uuid()
    assert patch(client, uuid, data[:1000], 0, len(data)).get_json()["offset"] == 1000
    assert patch(client, uuid, data[:1000], 0, len(data)).get_json()["offset"] == 1000  # replay
    assert patch(client, uuid, data[500:3000], 500, len(data)).get_json()["offset"] == 3000  # overlap
    done = patch(client, uuid, data[2000:], 2000, len(data))
    assert done.status_code == 201 and done.get_json()["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_part_after_a_gap_is_409_with_the_offset_to_resume_from(client, w, data):
    login(client, w.inspector_a)
    uuid = new_uuid()
    patch(client, uuid, data[:1000], 0, len(data))
    r = patch(client, uuid, data[2000:3000], 2000, len(data))
    assert r.status_code == 409
    assert r.get_json()["error"]["details"] == {"offset": 1000, "total": len(data)}
    assert status(client, uuid)["offset"] == 1000
    # Another length than the one staged: only a fresh start from byte 0 replaces it.
    assert patch(client, uuid, data[1000:2000], 1000, len(data) + 1).status_code == 409
    assert patch(client, uuid, data[:10], 0, len(data) + 1).get_json() == {
        "offset": 10, "total": len(data) + 1, "complete": False}


def test_refusals_and_limits(app, client, w, data):
    login(client, w.inspector_a)
    uuid = new_uuid()
    r = client.patch(f"/api/photos/{uuid}/upload", data=data)
    assert r.status_code == 400 and r.get_json()["error"]["details"] == {"header": "Upload-Offset"}
    assert patch(client, uuid, data, 0, len(data) - 1).status_code == 400  # body past the length
    assert patch(client, uuid, b"", 0, 0).status_code == 400
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1
    assert patch(client, uuid, data[:10], 0, too_big).status_code == 413
    # Not a photo: refused when complete, and the staging goes (sending it again cannot help).
    assert patch(client, uuid, b"x" * 5000, 0, 5000).status_code in (400, 415)
    assert staged_files(app) == [] and photo_count() == 0

    app.config["PHOTO_STAGED_UPLOADS_PER_USER"] = 2
    first, second = new_uuid(), new_uuid()
    assert patch(client, first, data[:10], 0, len(data)).status_code == 202
    assert patch(client, second, data[:10], 0, len(data)).status_code == 202
    r = patch(client, new_uuid(), data[:10], 0, len(data))
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "too_many_uploads"
    assert patch(client, first, data[10:20], 10, len(data)).status_code == 202  # a started one goes on


def test_another_users_bytes_never_join_and_their_photo_is_a_conflict(app, w, data):
    a, b = app.test_client(), app.test_client()
    login(a, w.inspector_a)
    login(b, w.inspector_b)
    uuid = new_uuid()
    patch(a, uuid, data[:1000], 0, len(data))
    assert status(b, uuid) == {"offset": 0, "total": None, "complete": False}
    assert patch(b, uuid, data[1000:], 1000, len(data)).status_code == 409  # no gap-filling others' bytes
    other = photo_bytes((400, 300), noise=True, seed=3)
    assert patch(b, uuid, other, 0, len(other)).status_code == 201
    r = patch(a, uuid, data[1000:], 1000, len(data))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    assert status(a, uuid)["complete"] is False and staged_files(app) == [] and photo_count() == 1


def test_pruning_removes_abandoned_uploads_only(app, client, w, data):
    login(client, w.inspector_a)
    old, recent = new_uuid(), new_uuid()
    patch(client, old, data[:1000], 0, len(data))
    patch(client, recent, data[:1000], 0, len(data))
    path = staging_for(app.config).root / f"{w.inspector_a.id}-{old}.part"
    os.utime(path, (time.time() - 2 * DAY,) * 2)
    assert services.prune_orphans(app.config, DAY, dry_run=True).staged == 1 and path.exists()
    assert services.prune_orphans(app.config, DAY).staged == 1
    assert staged_files(app) == [f"{w.inspector_a.id}-{recent}.part"]
    assert status(client, old)["offset"] == 0 and status(client, recent)["offset"] == 1000

    result = app.test_cli_runner().invoke(args=["prune-photos", "--grace-hours", "1"])
    assert "0 unfinished upload(s)" in result.output, result.output


# ---- a connection that drops mid-body, against a real server ------------------------------------

@pytest.fixture
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_port
    srv.shutdown()
    thread.join(timeout=10)


def _request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def test_a_body_cut_mid_way_keeps_what_arrived_and_the_resume_completes(app, w, server, data):
    client = app.test_client()  # logged in here, its session cookie used over the sockets
    token = login(client, w.inspector_a).get_json()["csrf_token"]
    name = app.config["SESSION_COOKIE_NAME"]
    auth = {"Cookie": f"{name}={client.get_cookie(name).value}", "X-CSRFToken": token}
    uuid, cut = new_uuid(), len(data) * 9 // 10
    path = f"/api/photos/{uuid}/upload"

    # The whole photo announced, 90 % of it sent, then the connection is gone.
    sock = socket.create_connection(("127.0.0.1", server))
    head = (f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(data)}\r\nUpload-Offset: 0\r\nUpload-Length: {len(data)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in auth.items()) + "\r\n")
    sock.sendall(head.encode() + data[:cut])
    sock.shutdown(socket.SHUT_WR)
    sock.close()

    for _ in range(200):  # until the server has seen the end of that body (bounded, not timed)
        code, _h, body = _request(server, "GET", path, headers=auth)
        if code == 200 and json.loads(body)["offset"] == cut:
            break
        time.sleep(0.05)
    assert code == 200 and json.loads(body) == {"offset": cut, "total": len(data), "complete": False}

    code, _h, body = _request(server, "PATCH", path, data[cut:], {
        **auth, "Content-Type": "application/octet-stream", "Upload-Offset": str(cut),
        "Upload-Length": str(len(data))})
    assert code == 201, body
    assert json.loads(body)["sha256"] == hashlib.sha256(data).hexdigest()
    assert photo_count() == 1 and staged_files(app) == []

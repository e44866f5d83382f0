"""PUT /api/photos/<uuid> and serving: idempotency, refusals that leave nothing behind, access."""
from __future__ import annotations

import hashlib
import io
import os

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.photos.models import Photo
from app.photos.storage import storage_for
from tests.factories import login, photo_bytes
from tests.factories.inspections import inspection_payload, make_small_world, new_uuid

from .test_pipeline import png_with_declared_size


@pytest.fixture
def w(app):
    return make_small_world()


def put(client, uuid, data: bytes, filename="photo.jpg", content_type="image/jpeg"):
    return client.put(
        f"/api/photos/{uuid}",
        data={"file": (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data",
    )


def photo_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Photo.id)))


def test_upload_stores_original_unchanged_and_replay_returns_it(app, client, w, files):
    login(client, w.inspector_a)
    data = photo_bytes((120, 80), gps=True, orientation=6, taken="2026:11:20 10:11:12")
    uuid = new_uuid()
    r = put(client, uuid, data)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["uuid"] == uuid and body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["media_type"] == "image/jpeg" and (body["width"], body["height"]) == (80, 120)
    assert body["captured_at"].startswith("2026-11-20T02:11:12")
    assert body["thumb_url"] == f"/photos/{uuid}/thumb" and body["display_url"] == f"/photos/{uuid}/display"
    stored = files()
    assert len(stored) == 3
    photo = db.session.scalar(select(Photo).where(Photo.uuid == uuid))
    assert [f for f in stored if os.path.basename(f) == photo.original_key]
    with storage_for(app.config).open(photo.original_key) as fh:
        assert fh.read() == data  # evidence kept byte for byte

    again = put(client, uuid, data)
    assert again.status_code == 200 and again.get_json() == body
    assert photo_count() == 1 and files() == stored


def test_same_uuid_other_bytes_is_409(client, w, files):
    login(client, w.inspector_a)
    uuid = new_uuid()
    assert put(client, uuid, photo_bytes(seed=1)).status_code == 201
    before = files()
    r = put(client, uuid, photo_bytes(seed=2))
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict" and "UUID" in r.get_json()["error"]["message"]
    assert photo_count() == 1 and files() == before


def test_identical_photos_under_two_uuids_are_stored_once(client, w, files):
    login(client, w.inspector_a)
    data = photo_bytes((90, 60))
    assert put(client, new_uuid(), data).status_code == 201
    assert put(client, new_uuid(), data).status_code == 201
    assert photo_count() == 2
    assert len(files()) == 3  # one original, one display, one thumb


def test_display_and_thumb_carry_no_gps_and_are_oriented(client, w):
    login(client, w.inspector_a)
    uuid = new_uuid()
    put(client, uuid, photo_bytes((1000, 500), gps=True, orientation=8))
    for variant, long_side in (("display", 1000), ("thumb", 320)):
        r = client.get(f"/photos/{uuid}/{variant}")
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        im = Image.open(io.BytesIO(r.data))
        assert im.size[1] == long_side and im.size[0] < im.size[1]
        assert not im.getexif() and b"GPS" not in r.data


def test_serving_headers(client, w):
    login(client, w.inspector_a)
    uuid = new_uuid()
    data = photo_bytes()
    put(client, uuid, data, filename="x.html", content_type="text/html")
    r = client.get(f"/photos/{uuid}/original")
    assert r.status_code == 200 and r.data == data
    assert r.headers["Content-Type"] == "image/jpeg"  # decided by decoding, not the client's word
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("inline") and ".jpg" in r.headers["Content-Disposition"]
    assert "private" in r.headers["Cache-Control"] and r.headers.get("ETag")


BAD_FILES = {
    "text named .jpg": (lambda: b"Dear inspector, this is not a photo.\n" * 20, 415),
    "random bytes": (lambda: os.urandom(4096), 415),
    "truncated jpeg": (lambda: photo_bytes((400, 300), noise=True)[:3000], 400),
    "bomb, far over": (lambda: png_with_declared_size(100_000, 100_000), 413),
    "bomb, just over": (lambda: png_with_declared_size(9_000, 9_000), 413),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_are_refused_leaving_nothing(app, client, w, files, name):
    make, status = BAD_FILES[name]
    login(client, w.inspector_a)
    r = put(client, new_uuid(), make(), filename="IMG_0001.jpg", content_type="image/jpeg")
    assert r.status_code == status, r.get_json()
    err = r.get_json()["error"]
    assert err["status"] == status and len(err["message"]) > 10
    assert photo_count() == 0
    assert files() == []


def test_oversized_upload_is_413_json_and_leaves_nothing(app, client, w, files):
    login(client, w.inspector_a)
    big = b"\xff\xd8\xff" + b"\x00" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    r = put(client, new_uuid(), big)
    assert r.status_code == 413
    assert r.get_json()["error"]["status"] == 413
    assert photo_count() == 0 and files() == []


def test_missing_file_field_is_400(client, w):
    login(client, w.inspector_a)
    r = client.put(f"/api/photos/{new_uuid()}?lang=en", data={"other": "x"}, content_type="multipart/form-data")
    assert r.status_code == 400 and "file" in r.get_json()["error"]["message"]


def test_failed_db_insert_removes_the_files_it_wrote(app, client, w, files, monkeypatch):
    login(client, w.inspector_a)
    kept = photo_bytes(seed=5)
    assert put(client, new_uuid(), kept).status_code == 201
    before = files()

    from sqlalchemy.orm import Session

    real_commit = Session.commit

    def broken_commit(self):
        if any(isinstance(o, Photo) for o in self.new):
            raise RuntimeError("database went away")
        return real_commit(self)

    monkeypatch.setattr(Session, "commit", broken_commit)
    # New bytes: their three files go again. Known bytes: the shared files stay (another row uses them).
    assert put(client, new_uuid(), photo_bytes(seed=6)).status_code == 500
    assert put(client, new_uuid(), kept).status_code == 500
    monkeypatch.setattr(Session, "commit", real_commit)
    assert files() == before and photo_count() == 1


def test_unreferenced_photo_is_visible_only_to_its_uploader(app, w):
    uuid = new_uuid()
    c = app.test_client()
    login(c, w.inspector_a)
    put(c, uuid, photo_bytes())
    for user, ok in ((w.inspector_a, True), (w.admin, False), (w.leader_a, False), (w.officer_a, False)):
        other = app.test_client()
        login(other, user)
        for variant in ("thumb", "display", "original"):
            assert (other.get(f"/photos/{uuid}/{variant}").status_code == 200) is ok, (user.username, variant)


def test_referenced_photo_follows_the_lab(app, w):
    c = app.test_client()
    login(c, w.inspector_a)
    uuid = new_uuid()
    put(c, uuid, photo_bytes())
    item = [i for i in w.full.items if i.photo_required][0]
    payload = inspection_payload(w.lab_a, w.full, results={item.id: "fail"}, photos={item.id: [uuid]})
    assert c.post("/api/inspections", json=payload).status_code == 201
    expect = {
        # user: (display/thumb, original)
        "admin": (True, True), "leader_a": (True, True), "head_a": (True, True),
        "officer_a": (True, False), "dept_officer": (True, True),
        "officer_b": (False, False), "inspector_b": (False, False),
    }
    for name, (view, original) in expect.items():
        other = app.test_client()
        login(other, getattr(w, name))
        assert (other.get(f"/photos/{uuid}/display").status_code == 200) is view, name
        assert (other.get(f"/photos/{uuid}/thumb").status_code == 200) is view, name
        assert (other.get(f"/photos/{uuid}/original").status_code == 200) is original, name


def test_someone_else_cannot_fill_a_referenced_photo(app, w):
    c = app.test_client()
    login(c, w.inspector_a)
    uuid = new_uuid()
    item = [i for i in w.full.items if i.photo_required][0]
    payload = inspection_payload(w.lab_a, w.full, results={item.id: "fail"}, photos={item.id: [uuid]})
    assert c.post("/api/inspections", json=payload).status_code == 201
    other = app.test_client()
    login(other, w.leader_a)
    assert put(other, uuid, photo_bytes()).status_code == 403
    assert photo_count() == 0


def test_unknown_photo_is_404(client, w):
    login(client, w.admin)
    assert client.get(f"/photos/{new_uuid()}/thumb").status_code == 404


def test_a_failed_upload_never_removes_files_another_upload_is_committing(app, w, monkeypatch):
    """The store is content-addressed: the same bytes under two UUIDs share their files. Upload A
    writes them, then its row fails to commit; upload B of the same bytes, which found the files
    present, must not be left with a row pointing at files A's cleanup removed (the files' locks,
    app/photos/locks.py, make A's write-commit-cleanup one step)."""
    import threading

    from sqlalchemy.orm import Session

    data = photo_bytes(seed=11)
    uuid_a, uuid_b = new_uuid(), new_uuid()
    a_at_commit, release_a, b_at_commit, a_done = (threading.Event() for _ in range(4))
    real_commit = Session.commit

    def commit(self):
        uuids = {o.uuid for o in self.new if isinstance(o, Photo)}
        if uuid_a in uuids:
            a_at_commit.set()
            release_a.wait(10)
            raise RuntimeError("database went away")
        if uuid_b in uuids:
            b_at_commit.set()
            a_done.wait(10)  # B's row lands only after A has failed and cleaned up
        return real_commit(self)

    monkeypatch.setattr(Session, "commit", commit)
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login(c, w.inspector_a)
    responses = {}

    def send(name, client, uuid):
        responses[name] = put(client, uuid, data)

    a = threading.Thread(target=send, args=("a", clients[0], uuid_a))
    b = threading.Thread(target=send, args=("b", clients[1], uuid_b))
    a.start()
    assert a_at_commit.wait(30)
    b.start()
    b_at_commit.wait(1.0)  # without the files' locks B gets here while A still waits; with it, it cannot
    release_a.set()
    a.join(30)
    a_done.set()
    b.join(30)
    monkeypatch.setattr(Session, "commit", real_commit)

    assert responses["a"].status_code == 500
    assert responses["b"].status_code == 201, responses["b"].get_json()
    db.session.expire_all()
    photo = db.session.scalar(select(Photo).where(Photo.uuid == uuid_b))
    storage = storage_for(app.config)
    for key in (photo.original_key, photo.display_key, photo.thumb_key):
        assert storage.exists(key), "an upload's row points at a file another upload's cleanup removed"
    with storage.open(photo.original_key) as fh:
        assert fh.read() == data
    assert db.session.scalar(select(Photo).where(Photo.uuid == uuid_a)) is None

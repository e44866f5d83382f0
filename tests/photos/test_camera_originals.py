"""The camera's own file of a stored photo (PHOTO_CAMERA_ORIGINALS): GET/PATCH
/api/photos/<uuid>/camera-original/upload (the resumable upload's code path), kept byte for byte,
counted by the orphan pruning, served as GET /photos/<uuid>/camera-original to those who see originals."""
from __future__ import annotations

import hashlib

import pytest

from app.extensions import db
from app.photos import services
from app.photos.models import Photo
from app.photos.storage import storage_for
from tests.factories import login, photo_bytes
from tests.factories.inspections import make_inspection, make_small_world, new_uuid

from .conftest import age
from .test_resumable_upload import staged_files

DAY = 24 * 3600


@pytest.fixture
def w(app):
    return make_small_world()


@pytest.fixture
def camera():
    # What a camera writes: more pixels and bytes than the 2048 px photo the phone sends first.
    return photo_bytes((1200, 900), noise=True, taken="2026:11:20 10:11:12", seed=7)


def url(uuid: str) -> str:
    return f"/api/photos/{uuid}/camera-original/upload"


def patch(client, uuid, body: bytes, offset: int = 0, total: int | None = None):
    total = len(body) if total is None else total
    return client.patch(url(uuid), data=body, content_type="application/octet-stream",
                        headers={"Upload-Offset": str(offset), "Upload-Length": str(total)})


def stored_photo(app, user, data: bytes | None = None) -> Photo:
    data = data or photo_bytes((400, 300), noise=True)
    return services.store_photo(user, new_uuid(), data, app.config).photo


def test_in_parts_it_is_kept_byte_for_byte_on_the_photo_row(app, client, w, camera):
    photo = stored_photo(app, w.inspector_a)
    login(client, w.inspector_a)
    assert client.get(url(photo.uuid)).get_json() == {"offset": 0, "total": None, "complete": False}
    half = len(camera) // 2
    r = patch(client, photo.uuid, camera[:half], 0, len(camera))
    assert r.status_code == 202 and r.get_json()["offset"] == half
    assert client.get(url(photo.uuid)).get_json()["offset"] == half  # resumes from what arrived
    done = patch(client, photo.uuid, camera[half:], half, len(camera))
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert body["complete"] and body["camera_original_url"] == f"/photos/{photo.uuid}/camera-original"
    assert body["camera_original_bytes"] == len(camera) and body["sha256"] == photo.sha256  # the photo's own
    db.session.refresh(photo)
    assert photo.camera_original_sha256 == hashlib.sha256(camera).hexdigest()
    assert photo.camera_original_type == "image/jpeg" and photo.camera_original_at is not None
    with storage_for(app.config).open(photo.camera_original_key) as fh:
        assert fh.read() == camera
    assert staged_files(app) == []
    # The photo's own upload and its camera original are staged apart: the photo is untouched.
    assert photo.byte_size != len(camera) and photo.original_key != photo.camera_original_key


def test_replay_is_200_and_other_bytes_are_409(app, client, w, camera):
    photo = stored_photo(app, w.inspector_a)
    login(client, w.inspector_a)
    assert patch(client, photo.uuid, camera).status_code == 201
    again = patch(client, photo.uuid, camera)
    assert again.status_code == 200 and again.get_json()["camera_original_bytes"] == len(camera)
    assert patch(client, photo.uuid, b"", len(camera), len(camera)).status_code == 200  # "I sent it all"
    status = client.get(url(photo.uuid)).get_json()
    assert status["complete"] and status["offset"] == len(camera)
    other = photo_bytes((1200, 900), noise=True, seed=8)
    r = patch(client, photo.uuid, other)
    assert r.status_code == 409 and r.get_json()["error"]["details"]["uuid"] == photo.uuid
    db.session.refresh(photo)
    assert photo.camera_original_sha256 == hashlib.sha256(camera).hexdigest()
    assert staged_files(app) == []


def test_before_the_photo_arrived_it_is_404_and_nothing_is_staged(app, client, w, camera):
    login(client, w.inspector_a)
    uuid = new_uuid()
    assert client.get(url(uuid)).status_code == 404
    r = patch(client, uuid, camera)
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404
    assert staged_files(app) == []
    # The photo lands; then its camera original does.
    services.store_photo(w.inspector_a, uuid, photo_bytes((400, 300), noise=True), app.config)
    assert patch(client, uuid, camera).status_code == 201


def test_only_the_photos_uploader_sends_it(app, client, w, camera):
    photo = stored_photo(app, w.inspector_a)
    login(client, w.school_inspector)
    assert client.get(url(photo.uuid)).status_code == 403
    assert patch(client, photo.uuid, camera).status_code == 403
    assert staged_files(app) == []
    db.session.refresh(photo)
    assert photo.camera_original_key is None


@pytest.mark.parametrize("body,status", [
    (b"%PDF-1.4 not a photo at all" * 100, 415),
    (photo_bytes((64, 48), "GIF"), 415),
])
def test_what_is_not_a_photo_is_refused_and_nothing_is_kept(app, client, w, files, body, status):
    photo = stored_photo(app, w.inspector_a)
    before = files()
    login(client, w.inspector_a)
    r = patch(client, photo.uuid, body)
    assert r.status_code == status, r.get_json()
    assert files() == before and staged_files(app) == []
    db.session.refresh(photo)
    assert photo.camera_original_key is None


def test_too_large_is_413(app, client, w, camera):
    photo = stored_photo(app, w.inspector_a)
    login(client, w.inspector_a)
    r = patch(client, photo.uuid, camera[:1000], 0, app.config["MAX_CONTENT_LENGTH"] + 1)
    assert r.status_code == 413 and staged_files(app) == []
    app.config["PHOTO_MAX_PIXELS"] = 1_000_000  # 1200 x 900 = 1.08 MP: too many pixels now
    assert patch(client, photo.uuid, camera).status_code == 413


def test_pruning_keeps_it(app, w, camera):
    photo = stored_photo(app, w.inspector_a)
    services.store_camera_original(w.inspector_a, photo.uuid, camera, app.config)
    store = storage_for(app.config)
    orphan = store.put(b"a crashed upload")
    for key in (photo.original_key, photo.display_key, photo.thumb_key, photo.camera_original_key, orphan):
        age(app, key, 2 * DAY)
    assert services.prune_orphans(app.config, DAY).orphans == [orphan]
    assert store.exists(photo.camera_original_key)
    assert photo.camera_original_key in services.referenced_keys(db.session)


def test_served_to_those_who_see_originals_and_linked_on_the_inspection_page(app, client, w, camera):
    inspection, photo = make_inspection(w.inspector_a, w.lab_a, fail_with_photo=photo_bytes((400, 300), noise=True))
    login(client, w.dept_officer)
    assert client.get(f"/photos/{photo.uuid}/camera-original").status_code == 404  # not arrived yet
    page = client.get(f"/inspections/{inspection.id}?lang=en").get_data(as_text=True)
    assert "camera-original" not in page
    services.store_camera_original(w.inspector_a, photo.uuid, camera, app.config)
    r = client.get(f"/photos/{photo.uuid}/camera-original")
    assert r.status_code == 200 and r.data == camera and r.mimetype == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in r.headers["Content-Security-Policy"]
    page = client.get(f"/inspections/{inspection.id}?lang=en").get_data(as_text=True)
    assert f'href="/photos/{photo.uuid}/camera-original"' in page and "Camera original" in page
    # A lab officer reads the lab's inspections but not evidence originals: no link, 403.
    login(client, w.officer_a)
    assert client.get(f"/photos/{photo.uuid}/camera-original").status_code == 403
    assert "camera-original" not in client.get(f"/inspections/{inspection.id}?lang=en").get_data(as_text=True)
    login(client, w.inspector_a)  # the uploader
    assert client.get(f"/photos/{photo.uuid}/camera-original").status_code == 200


def test_the_setting_reaches_the_phone_only_when_logged_in_and_renames_the_shell_cache(app, client, w):
    from app.pwa.views import asset_version  # app.pwa: the shell's version lives with the PWA pages

    marker = 'data-camera-originals="1"'
    login(client, w.inspector_a)
    with app.test_request_context():
        off = asset_version()
    assert marker not in client.get("/app").get_data(as_text=True)
    app.config["PHOTO_CAMERA_ORIGINALS"] = True
    assert marker in client.get("/app").get_data(as_text=True)
    with app.test_request_context():
        assert asset_version() != off  # cached shell pages are fetched again with the attribute
    assert marker not in app.test_client().get("/login").get_data(as_text=True)  # nobody logged in

"""What only the S3 store has: its settings, and a service that does not answer (503, nothing kept)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.monitoring.probes import check_photo_store
from app.photos.models import Photo
from app.photos.storage import LocalFileStorage, S3Storage, storage_at
from tests.factories import login, photo_bytes
from tests.factories.inspections import make_inspection, make_small_world, new_uuid
from tests.photos.conftest import stored_files

DEAD_ENDPOINT = "http://127.0.0.1:18899"  # nothing listens there


def test_the_store_is_chosen_by_its_location(tmp_path):
    config = {"PHOTO_S3_ENDPOINT_URL": "http://127.0.0.1:9", "PHOTO_S3_REGION": "us-east-1",
              "PHOTO_S3_ACCESS_KEY_ID": "k", "PHOTO_S3_SECRET_ACCESS_KEY": "s", "PHOTO_S3_PATH_STYLE": True}
    s3 = storage_at("s3://photos/school/a/", config)
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix) == ("photos", "school/a")
    key = "ab" * 32
    assert s3._name(key) == f"school/a/ab/ab/{key}"
    assert storage_at("s3://photos", config)._name(key) == f"ab/ab/{key}"
    assert isinstance(storage_at(tmp_path, config), LocalFileStorage)
    with pytest.raises(ValueError):
        storage_at("s3:///prefix", config)
    with pytest.raises(ValueError):
        s3._name("../../etc/passwd")  # never a name from outside


def test_an_object_store_keeps_resumable_parts_on_the_local_disk(tmp_path):
    app = create_app("testing", INSTANCE_PATH=str(tmp_path / "i"), PHOTO_STORE="s3://b/p",
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert app.config["PHOTO_UPLOAD_STAGING"] == str(tmp_path / "i" / "photo-uploads")


@pytest.mark.parametrize("photo_store", ["s3"], indirect=True)  # about the S3 store only
def test_a_store_that_does_not_answer_is_503_and_nothing_is_kept(app, photo_store):
    w = make_small_world()
    client = app.test_client()
    login(client, w.inspector_a)
    app.config["PHOTO_S3_ENDPOINT_URL"] = DEAD_ENDPOINT
    r = client.put(f"/api/photos/{new_uuid()}?lang=en", data={"file": (io.BytesIO(photo_bytes()), "p.jpg")},
                   content_type="multipart/form-data")
    assert r.status_code == 503, r.get_json()
    assert "photo store cannot be reached" in r.get_json()["error"]["message"] and r.headers["Retry-After"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_readiness_asks_the_object_store_and_leaves_no_object(app, photo_store):
    # /readyz writes and removes a probe object, never under a content key (app.monitoring.probes).
    assert check_photo_store(app.config) is None
    if photo_store == "s3":
        assert stored_files(app) == []  # the probe object is gone, and never listed as a photo
        app.config["PHOTO_S3_ENDPOINT_URL"] = DEAD_ENDPOINT
        assert "photo store not writable" in check_photo_store(app.config)


@pytest.mark.parametrize("photo_store", ["s3"], indirect=True)  # about the S3 store only
def test_a_document_whose_photos_cannot_be_read_is_503_not_500(app, photo_store):
    # The notice prints the evidence photos (app.documents reads photos.display_copies): an object
    # store that does not answer is a 503 with Retry-After, and no document is filed.
    from app.documents.models import IssuedDocument  # documents sit above photos; only this test needs them

    w = make_small_world()
    inspection, _photo = make_inspection(w.inspector_a, w.lab_a, w.full, fail_with_photo=photo_bytes(seed=3))
    client = app.test_client()
    login(client, w.leader_a)
    app.config["PHOTO_S3_ENDPOINT_URL"] = DEAD_ENDPOINT
    r = client.get(f"/inspections/{inspection.id}/notice.pdf?lang=en")
    assert r.status_code == 503 and r.headers["Retry-After"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(IssuedDocument.id))) == 0

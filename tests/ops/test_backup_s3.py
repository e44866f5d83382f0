"""`flask backup` / `flask restore` with the photos in an S3 bucket (PHOTO_STORE=s3://...): the
backup carries the bucket's objects that the database snapshot references, checked by SHA-256 in
the manifest; a restore puts them into an empty bucket under the same keys."""
from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.ops import services
from app.photos.models import Photo
from app.photos.storage import storage_for
from tests.factories import make_college, make_lab
from tests.photos.conftest import s3_server, s3_settings  # noqa: F401  (s3_server: a fixture)

from .test_backup import _photo_row, restore_target  # noqa: F401  (restore_target: a fixture)


def _bucket(app, endpoint) -> None:
    app.config.update(s3_settings(endpoint, f"labsafe-{uuid.uuid4().hex[:12]}"))
    store = storage_for(app.config)
    store.client.create_bucket(Bucket=store.bucket)


def test_backup_and_restore_carry_the_bucket(app, runner, tmp_path, s3_server, restore_target):  # noqa: F811
    _bucket(app, s3_server)
    store = storage_for(app.config)
    make_lab(make_college(), name="桶实验室")
    kept = {store.put(b"evidence %d" % i) for i in range(3)}
    for key in kept:
        _photo_row(key)
    orphan = store.put(b"a crashed upload's object")

    result = runner.invoke(args=["backup", "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    path = next((tmp_path / "b").iterdir())
    manifest = services.verify(path)
    assert set(manifest["photos"]) == {f"{k[:2]}/{k[2:4]}/{k}" for k in kept}  # not the orphan
    assert orphan not in str(manifest["photos"])

    restored = create_app("testing", SQLALCHEMY_DATABASE_URI=restore_target,
                          INSTANCE_PATH=str(tmp_path / "restored"))
    _bucket(restored, s3_server)
    with restored.app_context():
        result = restored.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code == 0, result.output
        target = storage_for(restored.config)
        assert sorted(target.keys()) == sorted(kept)
        for photo in db.session.scalars(select(Photo)):
            with target.open(photo.original_key) as fh:
                assert hashlib.sha256(fh.read()).hexdigest() == photo.original_key
        # The bucket is not empty now: a second restore is refused without --force.
        result = restored.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code != 0 and "not empty" in result.output
        db.session.remove()
        db.engine.dispose()

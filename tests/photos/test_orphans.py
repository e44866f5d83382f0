"""Files that no photo row references (an upload that died between its files and its row) are
removed after a grace period; a referenced file never is, nor one an upload is about to reference."""
from __future__ import annotations

import os
import threading
import time
import uuid

from app.extensions import db
from app.photos import locks, services
from app.photos.models import Photo
from app.photos.storage import LocalFileStorage, storage_for

from .conftest import age, s3_env

DAY = 24 * 3600


def _store(app):
    return storage_for(app.config)


def _row(original: str, display: str | None = None, thumb: str | None = None) -> Photo:
    photo = Photo(uuid=str(uuid.uuid4()), sha256=original, media_type="image/jpeg", byte_size=1, width=1, height=1,
                  original_key=original, display_key=display or original, thumb_key=thumb or original)
    db.session.add(photo)
    db.session.commit()
    return photo


def test_old_orphans_go_referenced_and_recent_files_stay(app):
    store = _store(app)
    orphan, recent = store.put(b"crashed upload"), store.put(b"upload in its grace period")
    original, display, thumb = store.put(b"original"), store.put(b"display"), store.put(b"thumb")
    _row(original, display, thumb)
    for key in (orphan, original, display, thumb):
        age(app, key, 2 * DAY)
    local = isinstance(store, LocalFileStorage)  # only a local store writes temp files (S3: atomic PUTs)
    if local:
        tmp = store.root / ".tmp" / "put-crashed"
        tmp.write_bytes(b"half a photo")
        os.utime(tmp, (time.time() - 2 * DAY,) * 2)

    dry = services.prune_orphans(app.config, DAY, dry_run=True)
    assert dry.orphans == [orphan] and store.exists(orphan) and (not local or tmp.exists())

    report = services.prune_orphans(app.config, DAY)
    assert report.orphans == [orphan] and report.leftovers == (1 if local else 0)
    assert not store.exists(orphan) and not (local and tmp.exists())
    assert all(store.exists(k) for k in (recent, original, display, thumb))
    assert services.prune_orphans(app.config, DAY).orphans == []  # twice: nothing more


def test_the_cleanup_waits_for_an_upload_holding_the_files_lock(app):
    """An upload of bytes an old orphan already holds finds the file present and commits a row for it,
    all under the file's lock; the cleanup listed the file before and must see that row."""
    store = _store(app)
    key = store.put(b"same bytes as a crashed upload")
    age(app, key, 2 * DAY)
    result = {}

    def cleanup():
        with app.app_context():
            result["report"] = services.prune_orphans(app.config, DAY)

    with locks.holding(app.config, [key]):  # the upload: from its first file to its commit
        assert store.exists(key)  # so the upload writes nothing and will not clean this file up
        worker = threading.Thread(target=cleanup)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive(), "the cleanup did not wait for the file's lock"
        _row(key)
    worker.join(30)
    assert result["report"].orphans == []
    assert store.exists(key)


def test_cli(app, runner):
    store = _store(app)
    orphan = store.put(b"orphan")
    age(app, orphan, 3 * DAY)
    result = runner.invoke(args=["prune-photos", "--dry-run"])
    assert result.exit_code == 0 and orphan in result.output and store.exists(orphan)
    result = runner.invoke(args=["prune-photos", "--grace-hours", "48"])
    assert result.exit_code == 0 and "1 orphaned photo file(s) removed" in result.output
    assert not store.exists(orphan)
    assert runner.invoke(args=["prune-photos", "--grace-hours", "0"]).exit_code != 0


_CRASHING_UPLOAD = """
import os, sys
from app import create_app
from app.auth.models import User
from app.extensions import db
from app.photos import services

url, store, instance, user_id, photo_uuid, image = sys.argv[1:7]
app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, PHOTO_STORE=store, INSTANCE_PATH=instance)
with app.app_context():
    user = db.session.get(User, int(user_id))
    db.session.commit = lambda: os._exit(9)  # the worker dies between its files and its row
    services.store_photo(user, photo_uuid, open(image, "rb").read(), app.config)
"""


def test_a_worker_killed_mid_upload_leaves_orphans_the_cleanup_removes(app, tmp_path, files):
    """A real process stores a photo's files and dies before its row is committed."""
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import func, select

    from tests.factories import make_user
    from tests.factories.inspections import photo_bytes

    user = make_user("inspector")
    image = tmp_path / "photo.jpg"
    image.write_bytes(photo_bytes(seed=7))
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", _CRASHING_UPLOAD, app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_STORE"],
         str(tmp_path / "crash-instance"), str(user.id), str(uuid.uuid4()), str(image)],
        cwd=root, capture_output=True, text=True, timeout=120, env={**os.environ, **s3_env(app.config)})
    assert proc.returncode == 9, proc.stderr
    store = _store(app)
    left = list(store.keys_older_than(-60))
    assert len(left) == 3 and db.session.scalar(select(func.count(Photo.id))) == 0  # original, display, thumb
    assert services.prune_orphans(app.config, DAY).orphans == []  # inside the grace period
    for key in left:
        age(app, key, 2 * DAY)
    assert sorted(services.prune_orphans(app.config, DAY).orphans) == sorted(left)
    assert not [f for f in files() if "/.tmp/" not in f]

"""The files' locks hold between processes (on PostgreSQL between hosts: they live in the
database), on both stores: another app process's upload holds a file's lock from before it looks
for the file until its row is committed or its files are cleaned up, and meanwhile neither the
orphan sweep nor this process's upload of the same bytes can act on that file."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.photos import services
from app.photos.models import Photo
from app.photos.storage import storage_for
from tests.factories import make_user
from tests.factories.inspections import photo_bytes

from .conftest import age, s3_env

DAY = 24 * 3600
ROOT = Path(__file__).resolve().parents[2]

# The other app process: waits for a line on stdin at the step named by argv, saying on stdout when there.
_OTHER = """
import os, sys
from app import create_app
from app.auth.models import User
from app.extensions import db
from app.photos import locks, services
from app.photos.models import Photo

url, store, instance, mode, arg, user_id = sys.argv[1:7]
app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, PHOTO_STORE=store, INSTANCE_PATH=instance)
with app.app_context():
    if mode == "reference":  # an upload that found the file present: lock, (wait), its row, commit
        with locks.holding(app.config, [arg]):
            print("holding", flush=True)
            sys.stdin.readline()
            db.session.add(Photo(uuid="00000000-0000-4000-8000-000000000001", sha256=arg, media_type="image/jpeg",
                                 byte_size=1, width=1, height=1, original_key=arg, display_key=arg, thumb_key=arg))
            db.session.commit()
    else:  # an upload whose row fails to commit: its files written, (wait), then it cleans up
        def commit():
            print("at-commit", flush=True)
            sys.stdin.readline()
            raise RuntimeError("database went away")
        db.session.commit = commit
        try:
            services.store_photo(db.session.get(User, int(user_id)), "00000000-0000-4000-8000-000000000002",
                                 open(arg, "rb").read(), app.config)
        except RuntimeError:
            print("cleaned-up", flush=True)
"""


def _other(app, tmp_path, mode, arg, user_id=0):
    return subprocess.Popen(
        [sys.executable, "-c", _OTHER, app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_STORE"],
         str(tmp_path / "other-instance"), mode, arg, str(user_id)],
        cwd=ROOT, env={**os.environ, **s3_env(app.config)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)


def _wait_for(proc, word):
    line = proc.stdout.readline().strip()
    assert line == word, (line, proc.poll())


def _waits_for_the_other(app, proc, work, what: str, then: str | None = None) -> None:
    """Start `work` (in a thread, in its own app context); it must still wait half a second later,
    while the other process holds the locks; then let the other process go and wait for both."""
    def run():
        with app.app_context():
            work()
            db.session.remove()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(0.5)
    assert worker.is_alive(), f"the {what} did not wait for the other process's locks"
    proc.stdin.write("go\n")
    proc.stdin.flush()
    if then:
        _wait_for(proc, then)
    assert proc.wait(60) == 0
    worker.join(60)


def test_the_sweep_waits_for_another_process_referencing_an_old_file(app, tmp_path):
    store = storage_for(app.config)
    key = store.put(b"same bytes as a crashed upload")
    age(app, key, 2 * DAY)
    proc = _other(app, tmp_path, "reference", key)
    result = {}
    try:
        _wait_for(proc, "holding")

        def sweep():
            result["report"] = services.prune_orphans(app.config, DAY)

        _waits_for_the_other(app, proc, sweep, "sweep")
    finally:
        proc.kill()
    assert result["report"].orphans == [] and store.exists(key)


def test_a_failed_upload_in_another_process_never_removes_files_this_one_references(app, tmp_path):
    user = make_user("inspector")
    data = photo_bytes(seed=23)
    image = tmp_path / "photo.jpg"
    image.write_bytes(data)
    proc = _other(app, tmp_path, "fail", str(image), user.id)
    result = {}
    try:
        _wait_for(proc, "at-commit")  # its three files are in the store, its row not committed

        def upload():
            result["stored"] = services.store_photo(db.session.get(User, user.id), str(uuid.uuid4()), data,
                                                    app.config).photo.uuid

        _waits_for_the_other(app, proc, upload, "upload", then="cleaned-up")
    finally:
        proc.kill()
    db.session.expire_all()
    photo = db.session.scalar(select(Photo).where(Photo.uuid == result["stored"]))
    store = storage_for(app.config)
    for key in (photo.original_key, photo.display_key, photo.thumb_key):
        assert store.exists(key), "a row points at a file another process's cleanup removed"
    with store.open(photo.original_key) as fh:
        assert fh.read() == data

"""Backup under concurrent writes, restore into an empty instance, find everything.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (pg_dump / pg_restore).
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.checklists.models import Checklist, ChecklistItem, ChecklistKind, ChecklistVersion, Severity
from app.errors import Conflict
from app.extensions import db
from app.inspections.models import AnswerPhoto, AnswerResult, Inspection, InspectionAnswer, InspectionLevel
from app.ops import services
from app.photos.models import Photo
from app.photos.storage import LocalFileStorage
from app.tickets.models import RectificationTicket, TicketEvent
from app.timeutil import utcnow
from tests.factories import make_college, make_lab, make_user


def _checklist_item() -> ChecklistItem:
    checklist = Checklist(key=f"daily-{uuid.uuid4().hex[:6]}", kind=ChecklistKind.daily, title="日查")
    db.session.add(checklist)
    db.session.flush()
    version = ChecklistVersion(checklist_id=checklist.id, number=1, content_hash="0" * 64, title="日查",
                               source_file="daily.toml")
    db.session.add(version)
    db.session.flush()
    item = ChecklistItem(version_id=version.id, item_key="exits", position=1, article="23", text="通道畅通",
                         severity=Severity.general)
    db.session.add(item)
    db.session.commit()
    return item


class Writer(threading.Thread):
    """Keeps committing inspections with a photo, a ticket and ticket events, like the morning rush."""

    def __init__(self, app, lab_id, user_id, item):
        super().__init__(daemon=True)
        self.app, self.lab_id, self.user_id = app, lab_id, user_id
        self.item_id, self.version_id = item.id, item.version_id
        self.committed: list[dict] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            with self.app.app_context():
                store = LocalFileStorage(self.app.config["PHOTO_STORE"])
                first_ticket = None
                n = 0
                while not self.stop.is_set():
                    n += 1
                    data = b"\xff\xd8fake-jpeg-" + uuid.uuid4().bytes * 8 + str(n).encode()
                    key = store.put(data)  # the file first, then the row (as the photo service does)
                    photo = Photo(uuid=str(uuid.uuid4()), sha256=key, media_type="image/jpeg", byte_size=len(data),
                                  width=1, height=1, original_key=key, display_key=key, thumb_key=key,
                                  uploaded_by_id=self.user_id)
                    now = utcnow()
                    insp = Inspection(uuid=str(uuid.uuid4()), payload_hash="0" * 64, lab_id=self.lab_id,
                                      checklist_version_id=self.version_id, level=InspectionLevel.daily,
                                      inspector_id=self.user_id, started_at=now, finished_at=now)
                    db.session.add_all([photo, insp])
                    db.session.flush()
                    answer = InspectionAnswer(inspection_id=insp.id, item_id=self.item_id, position=0,
                                              result=AnswerResult.failed, note="blocked")
                    db.session.add(answer)
                    db.session.flush()
                    db.session.add(AnswerPhoto(answer_id=answer.id, photo_uuid=photo.uuid))
                    ticket = RectificationTicket(lab_id=self.lab_id, inspection_id=insp.id, answer_id=answer.id,
                                                 item_id=self.item_id, article="23", title="通道畅通",
                                                 severity=Severity.general, deadline=now + timedelta(days=7))
                    db.session.add(ticket)
                    db.session.flush()
                    first_ticket = first_ticket or ticket.id
                    events = [TicketEvent(ticket_id=ticket.id, actor_id=self.user_id, kind="created", to_state="open"),
                              TicketEvent(ticket_id=first_ticket, actor_id=self.user_id, kind="comment", note=f"#{n}")]
                    db.session.add_all(events)
                    db.session.commit()
                    with self.lock:
                        self.committed.append({"inspection": insp.uuid, "photo": photo.uuid, "key": key,
                                               "sha256": hashlib.sha256(data).hexdigest(),
                                               "events": [e.id for e in events]})
                    time.sleep(0.002)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            self.error = exc

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.committed)


@pytest.fixture
def restore_target(database_url, tmp_path):
    """An empty database of the same kind (a new SQLite file or a new PostgreSQL database)."""
    if not database_url:
        yield f"sqlite:///{tmp_path / 'restored' / 'labsafe.sqlite3'}"
        return
    url = make_url(database_url)
    name = f"labsafe_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _restored_app(url, tmp_path):
    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=str(tmp_path / "restored"),
                      PHOTO_STORE=str(tmp_path / "restored" / "photos"))


def test_backup_under_concurrent_writes_restores_everything_committed_before(app, tmp_path, restore_target):
    lab = make_lab(make_college())
    user = make_user("inspector")
    item = _checklist_item()
    writer = Writer(app, lab.id, user.id, item)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(writer.snapshot()) < 25 and time.monotonic() < deadline and writer.error is None:
            time.sleep(0.02)
        before = writer.snapshot()  # everything here committed before the backup started
        path = services.backup(app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_STORE"], tmp_path / "backups")
        n_at_end = len(writer.snapshot())
        time.sleep(0.1)  # and the writer carries on after
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert len(before) >= 25
    assert len(writer.snapshot()) > n_at_end or n_at_end > len(before), "the writer was not running during the backup"

    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["database"]["kind"] == ("postgresql" if "postgresql" in restore_target else "sqlite")
    assert manifest["counts"]["inspections"] >= len(before)

    restored = _restored_app(restore_target, tmp_path)
    with restored.app_context():
        services.restore(path, restored.config["SQLALCHEMY_DATABASE_URI"], restored.config["PHOTO_STORE"])
        store = Path(restored.config["PHOTO_STORE"])
        inspections = set(db.session.scalars(select(Inspection.uuid)))
        photos = {p.uuid: p.original_key for p in db.session.scalars(select(Photo))}
        events = set(db.session.scalars(select(TicketEvent.id)))
        missing = []
        for rec in before:
            if rec["inspection"] not in inspections:
                missing.append(("inspection", rec["inspection"]))
            if photos.get(rec["photo"]) != rec["key"]:
                missing.append(("photo row", rec["photo"]))
            f = store / rec["key"][:2] / rec["key"][2:4] / rec["key"]
            if not f.is_file() or hashlib.sha256(f.read_bytes()).hexdigest() != rec["sha256"]:
                missing.append(("photo file", rec["key"]))
            missing += [("ticket event", e) for e in rec["events"] if e not in events]
        assert not missing, missing[:10]
        # Every photo row the snapshot holds has its file (the store is copied after the snapshot).
        for uuid_, key in photos.items():
            assert (store / key[:2] / key[2:4] / key).is_file(), uuid_
        # The restored instance works: its rows and the manifest agree.
        assert db.session.scalar(select(db.func.count()).select_from(Inspection)) == manifest["counts"]["inspections"]
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_non_empty_target_unless_forced(app, tmp_path):
    make_lab(make_college())
    path = services.backup(app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_STORE"], tmp_path / "b")
    db.session.remove()
    with pytest.raises(Conflict):
        services.restore(path, app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_STORE"])


def _photo_row(key: str) -> Photo:
    photo = Photo(uuid=str(uuid.uuid4()), sha256=key, media_type="image/jpeg", byte_size=1, width=1, height=1,
                  original_key=key, display_key=key, thumb_key=key)
    db.session.add(photo)
    db.session.commit()
    return photo


def test_backup_skips_files_no_row_references(app, tmp_path):
    """An upload that crashed between its files and its row leaves orphans; the backup carries only
    what the snapshot's rows reference."""
    store = LocalFileStorage(app.config["PHOTO_STORE"])
    kept = store.put(b"evidence")
    _photo_row(kept)
    orphan = store.put(b"a crashed upload's file")
    path = services.backup(app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_STORE"], tmp_path / "b")
    manifest = services.verify(path)
    assert set(manifest["photos"]) == {f"{kept[:2]}/{kept[2:4]}/{kept}"}
    assert not (path / "photos" / orphan[:2] / orphan[2:4] / orphan).exists()


def test_restore_refuses_a_damaged_backup(app, tmp_path, restore_target):
    make_lab(make_college())
    key = LocalFileStorage(app.config["PHOTO_STORE"]).put(b"photo bytes")
    _photo_row(key)
    path = services.backup(app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_STORE"], tmp_path / "b")
    (path / "photos" / key[:2] / key[2:4] / key).write_bytes(b"tampered")
    from app.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.restore(path, restore_target, tmp_path / "empty-store")


def test_cli_backup_and_restore(app, runner, tmp_path, restore_target):
    lab_id = make_lab(make_college(), name="备份实验室").id  # read now: not inside the other app's context
    LocalFileStorage(app.config["PHOTO_STORE"]).put(b"a photo")
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    backup_dir = next((tmp_path / "cli").iterdir())
    assert "Backup written to" in result.output and (backup_dir / "manifest.json").is_file()

    restored = _restored_app(restore_target, tmp_path)
    # The CLI runs in the app context it finds: push the restored instance's own.
    with restored.app_context():
        result = restored.test_cli_runner().invoke(args=["restore", str(backup_dir)])
        assert result.exit_code == 0, result.output
        # A second restore into the now non-empty instance is refused without --force.
        result = restored.test_cli_runner().invoke(args=["restore", str(backup_dir)])
        assert result.exit_code != 0 and "not empty" in result.output
        result = restored.test_cli_runner().invoke(args=["restore", "--force", str(backup_dir)])
        assert result.exit_code == 0, result.output
        from app.org.models import Lab

        assert db.session.get(Lab, lab_id).name == "备份实验室"
        db.session.remove()
        db.engine.dispose()

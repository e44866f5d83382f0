"""Camera originals (PHOTO_CAMERA_ORIGINALS, issue 21) in Debian's Chromium on a phone-sized screen.

With the setting on, the phone keeps the file the camera wrote beside the 2048 px photo it sends, and
queues it with the report. The report and its photo go first; the camera original goes last, and only
on Wi-Fi or while charging. Headless Chromium has no network type (and reports a desktop's battery),
so the phone's connection and battery are set by an init script; waits are on state, never on time.
"""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.inspections.models import AnswerPhoto, Inspection
from app.photos.models import Photo
from tests.factories import make_ticket

from .conftest import photo_file
from .test_inspector_flow import _count, _open, _queue_offline_inspection, _until, _world

# The phone's network and battery, as Android Chrome reports them; self.__net changes them later.
NETWORK = """
(() => {
  const start = %s;
  const now = () => self.__net || start;
  Object.defineProperty(Navigator.prototype, 'connection', { configurable: true, get() {
    return { type: now().type, effectiveType: '4g', saveData: false, addEventListener() {}, removeEventListener() {} };
  } });
  Object.defineProperty(Navigator.prototype, 'getBattery', { configurable: true, value() {
    return Promise.resolve({ charging: now().charging, level: 0.5, addEventListener() {}, removeEventListener() {} });
  } });
})();
"""
WIFI = '{"type": "wifi", "charging": false}'
CELLULAR = '{"type": "cellular", "charging": false}'

OUTBOX = """async () => {
  const db = await new Promise((ok, no) => { const r = indexedDB.open('labsafe'); r.onsuccess = () => ok(r.result); r.onerror = no; });
  const all = await new Promise((ok, no) => { const r = db.transaction('outbox').objectStore('outbox').getAll();
    r.onsuccess = () => ok(r.result); r.onerror = no; });
  db.close();
  return all.map((i) => ({ id: i.id, kind: i.kind, status: i.status, error: i.error, size: i.size, photo_uuid: i.photo_uuid || null }));
}"""


def _sync(page) -> dict:
    """Press "sync now" and answer how the run that follows ended (a run under way, e.g. the app
    start's, ends first: sync.js holds the Web Lock 'labsafe-sync' while it runs)."""
    _until(page, """async () => { const s = await navigator.locks.query();
      return ![...s.held, ...s.pending].some((l) => l.name === 'labsafe-sync'); }""")
    page.evaluate("""() => { window.__synced = new Promise((ok) => window.addEventListener('labsafe:sync', (e) => {
      if (e.detail && e.detail.state && e.detail.state !== 'running') ok({ state: e.detail.state, waiting: e.detail.waiting });
    })); }""")
    page.locator("#sync-now").click()
    return page.evaluate("window.__synced")


@pytest.fixture
def originals_on(app):
    app.config["PHOTO_CAMERA_ORIGINALS"] = True  # read by the page on each request (base.html)


def _offline_inspection_with_a_photo(phone, network: str):
    w = _world()
    ctx = phone()
    ctx.add_init_script(NETWORK % network)
    page = ctx.new_page()
    _queue_offline_inspection(ctx, page, w, note="灭火器过期")
    assert page.evaluate("document.body.dataset.cameraOriginals") == "1"
    page.wait_for_selector('#outbox-badge[data-count="3"]')  # the inspection, the photo, its camera original
    kinds = sorted(i["kind"] for i in page.evaluate(OUTBOX))
    assert kinds == ["camera_original", "inspection", "photo"]
    return w, ctx, page


def test_on_wifi_the_report_then_the_photo_then_the_camera_original_land(phone, live_server, originals_on):
    _w, ctx, page = _offline_inspection_with_a_photo(phone, WIFI)
    queued = {i["kind"]: i for i in page.evaluate(OUTBOX)}
    camera = photo_file()["buffer"]
    assert queued["camera_original"]["size"] == len(camera) > queued["photo"]["size"]
    assert queued["camera_original"]["id"] == f"{queued['photo']['id']}:camera"

    ctx.set_offline(False)  # the `online` event replays the outbox
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    assert _count(Inspection) == 1 and _count(Photo) == 1
    db.session.expire_all()
    photo = db.session.scalar(select(Photo))
    assert photo.uuid == queued["photo"]["id"] and _count(AnswerPhoto, AnswerPhoto.photo_uuid == photo.uuid) == 1
    assert max(photo.width, photo.height) <= 2048  # the photo the school reads at once: downscaled
    # ... and the camera's own file, byte for byte.
    assert photo.camera_original_sha256 == hashlib.sha256(camera).hexdigest()
    assert photo.camera_original_bytes == len(camera) and photo.camera_original_type == "image/jpeg"
    assert photo.camera_original_at >= photo.uploaded_at  # after the photo
    got = page.evaluate(f"fetch('/photos/{photo.uuid}/camera-original').then((r) => r.arrayBuffer()).then((b) => b.byteLength)")
    assert got == len(camera)


def test_on_cellular_the_camera_original_waits_for_wifi(phone, live_server, originals_on):
    _w, ctx, page = _offline_inspection_with_a_photo(phone, CELLULAR)
    ctx.set_offline(False)
    # The report and the photo land; the camera original stays, pending, with no error.
    page.wait_for_selector('#outbox-badge[data-count="1"]')
    _until(page, "document.getElementById('done').dataset.state === 'submitted'")
    _until(page, "document.querySelectorAll('#done-photos li[data-state=\"done\"]').length === 1")
    assert _count(Inspection) == 1 and _count(Photo) == 1
    db.session.expire_all()
    photo = db.session.scalar(select(Photo))
    assert photo.camera_original_key is None
    left = page.evaluate(OUTBOX)
    assert [(i["kind"], i["status"], i["error"], i["photo_uuid"]) for i in left] == [
        ("camera_original", "pending", None, photo.uuid)]

    # A sync on cellular sends nothing more (the run ends "done", one waiting); on Wi-Fi it goes.
    page.goto("/app")
    _until(page, "document.getElementById('outbox-total').textContent === '1'")
    assert _sync(page) == {"state": "done", "waiting": 1}
    db.session.expire_all()
    assert db.session.scalar(select(Photo.camera_original_key)) is None
    page.evaluate("self.__net = { type: 'wifi', charging: false }")
    assert _sync(page) == {"state": "done", "waiting": 0}
    _until(page, "document.getElementById('outbox-total').textContent === '0'")
    db.session.expire_all()
    assert db.session.scalar(select(Photo.camera_original_bytes)) == len(photo_file()["buffer"])


def test_a_fix_sends_its_after_photo_then_its_camera_original_on_a_charging_phone(phone, live_server, originals_on):
    w = _world()
    ticket = make_ticket(w["lab"], article="21", title="插线板串接使用")
    ctx = phone()
    ctx.add_init_script(NETWORK % '{"type": "cellular", "charging": true}')
    page = ctx.new_page()
    _open(page, f"/app/tickets/{ticket.id}", w["officer"])
    page.wait_for_selector('#action-buttons button[data-action="submit_fix"]')
    page.locator("#action-note").fill("已拆除串接的插线板")
    page.locator("#fix-photo").set_input_files(photo_file("after.jpg"))
    page.locator("#fix-thumbs figure").last.wait_for()
    page.locator('#action-buttons button[data-action="submit_fix"]').click()
    page.wait_for_selector('#ticket-state[data-state="fix_submitted"]')
    _until(page, f"async () => (await ({OUTBOX})()).length === 0")  # the action, the photo, its camera file
    db.session.expire_all()
    photo = db.session.scalar(select(Photo))
    assert max(photo.width, photo.height) <= 2048
    assert photo.camera_original_bytes == len(photo_file()["buffer"])

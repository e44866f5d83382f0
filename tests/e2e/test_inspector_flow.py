"""The PWA in Debian's Chromium on a phone-sized screen, against the real app on 127.0.0.1.

1. an inspector opens a lab's QR URL, runs a checklist with one failed item and a photo,
   submits; the ticket appears for the lab officer;
2. the same offline from the lab card onwards, then online: the inspection and its photo reach
   the server exactly once and the outbox badge goes to zero;
3. a reload while offline mid-inspection keeps the answers;
4. the lab officer submits a fix with a photo; the college leader rejects it once with a reason,
   then verifies the second fix.
Waits are on state (selectors, URLs, IndexedDB/caches), never on time.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.inspections.models import AnswerPhoto, Inspection, InspectionAnswer
from app.photos.models import Photo
from app.tickets.models import RectificationTicket
from tests.factories import DEFAULT_PASSWORD, load_shipped_checklists, make_college, make_lab, make_ticket, make_user

from .conftest import photo_file


def _world():
    load_shipped_checklists()
    college = make_college(name="化学与材料工程学院")
    lab = make_lab(college, category="general", name="计算机实验室 A")
    return {
        "lab": lab,
        "inspector": make_user(Role.inspector, college=college, name="检查员"),
        "officer": make_user(Role.lab_officer, lab=lab, name="安全员", ),
        "leader": make_user(Role.college_leader, college=college, name="分管领导"),
    }


def _log_in_on_page(page, user):
    page.wait_for_url("**/login**")
    page.locator('input[name="username"]').fill(user.username)
    page.locator('input[name="password"]').fill(DEFAULT_PASSWORD)
    page.locator('main form button[type="submit"]').click()


def _open(page, path, user):
    page.goto(path)
    _log_in_on_page(page, user)


def _until(page, js: str, timeout_s: float = 20):
    """Poll a JS expression or (async) function until truthy. page.wait_for_function would
    compile the predicate with eval, which the app's CSP (rightly) forbids."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        if page.evaluate(js):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {js}")
        page.wait_for_timeout(100)


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _wait_offline_ready(page):
    """The service worker controls the page and holds the shell pages and the bundle."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _until(page, "navigator.serviceWorker.controller !== null")
    _until(page,
        """async () => Boolean(await caches.match('/app/shell/inspect'))
                && Boolean(await caches.match('/app/shell/lab'))
                && Boolean(await caches.match('/api/offline/bundle'))"""
    )


def _start_checklist(page, key="full", level="college"):
    page.locator(f'a[data-checklist="{key}"][data-level="{level}"]').click()
    page.wait_for_url(f"**/inspect/{key}?level={level}")
    page.wait_for_selector('body[data-inspect-ready="1"]')


def _answer_all_pass_but_first(page, note="插线板串接", photo=None):
    """List mode: the first item fails with a note and a photo, every other item passes."""
    page.locator("#mode-list").click()
    items = page.locator("#items > li")
    first = items.nth(0)
    first.locator(".choice.fail").click()
    first.locator(".item-note").fill(note)
    first.locator(".photo-input").set_input_files(photo or photo_file())
    first.locator(".thumbs figure").wait_for()
    for i in range(1, items.count()):
        items.nth(i).locator(".choice.pass").click()
    _until(page,
        "document.querySelectorAll('#items > li[data-result=\"\"]').length === 0")
    return items.count()


def _review_and_submit(page):
    page.locator("#to-review").click()
    page.locator("#submit-inspection:not([disabled])").click()
    page.wait_for_selector("#done:not([hidden])")


def _inspect_offline(ctx, page, w, note="插线板串接", photo=None):
    """The inspector opens the lab online (the worker keeps the shell), goes offline and inspects
    with one failure and its photo, up to the submit."""
    _open(page, f"/l/{w['lab'].qr_token}", w["inspector"])
    page.wait_for_selector("#lab-card:not([hidden])")
    _wait_offline_ready(page)
    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    _start_checklist(page)
    _answer_all_pass_but_first(page, note=note, photo=photo)


def _queue_offline_inspection(ctx, page, w, note="插线板串接", photo=None):
    """As _inspect_offline, then submits: queued on the phone."""
    _inspect_offline(ctx, page, w, note=note, photo=photo)
    _review_and_submit(page)
    page.wait_for_selector('#done[data-state="queued"]')


def test_inspector_scans_runs_a_checklist_with_a_failure_and_photo_and_the_officer_sees_the_ticket(phone, live_server):
    w = _world()
    page = phone().new_page()
    _open(page, f"/l/{w['lab'].qr_token}", w["inspector"])
    page.wait_for_url(f"**/app/labs/{w['lab'].id}")  # the door QR lands in the PWA lab card
    page.wait_for_selector("#lab-card:not([hidden])")
    assert page.locator("#lab-name").inner_text() == "计算机实验室 A"
    assert "安全员" in page.locator("#lab-officers").inner_text()

    _start_checklist(page)
    n = _answer_all_pass_but_first(page)
    _review_and_submit(page)
    page.wait_for_selector('#done[data-state="submitted"]')
    page.wait_for_selector('#outbox-badge[data-count="0"]')  # the photo follows the report

    inspection = db.session.scalar(select(Inspection).where(Inspection.lab_id == w["lab"].id))
    assert inspection is not None and inspection.inspector_id == w["inspector"].id
    assert _count(InspectionAnswer, InspectionAnswer.inspection_id == inspection.id) == n
    photo = db.session.scalar(select(Photo))
    assert photo is not None and max(photo.width, photo.height) <= 2048  # downscaled on the phone
    assert _count(AnswerPhoto, AnswerPhoto.photo_uuid == photo.uuid) == 1
    ticket = db.session.scalar(select(RectificationTicket).where(RectificationTicket.lab_id == w["lab"].id))
    assert ticket is not None and "插线板串接" in ticket.description

    officer = phone().new_page()
    _open(officer, f"/app/labs/{w['lab'].id}", w["officer"])
    officer.wait_for_url(f"**/app/labs/{w['lab'].id}")
    officer.wait_for_selector(f'#lab-tickets a[href="/app/tickets/{ticket.id}"]')
    officer.goto("/app/tickets")
    officer.wait_for_selector(f'#ticket-list a[href="/app/tickets/{ticket.id}"]')


def test_offline_inspection_reaches_the_server_exactly_once_when_back_online(phone, live_server):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _open(page, f"/l/{w['lab'].qr_token}", w["inspector"])
    page.wait_for_selector("#lab-card:not([hidden])")
    _wait_offline_ready(page)

    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    _start_checklist(page)  # served by the service worker, checklist from the bundle
    _answer_all_pass_but_first(page, note="灭火器过期")
    _review_and_submit(page)
    page.wait_for_selector('#done[data-state="queued"]')
    page.wait_for_selector('#outbox-badge[data-count="2"]')  # the photo and the inspection
    assert _count(Inspection) == 0 and _count(Photo) == 0

    ctx.set_offline(False)  # the `online` event replays the outbox
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    assert _count(Inspection) == 1
    assert _count(Photo) == 1
    assert _count(RectificationTicket) == 1
    photo_uuid = db.session.scalar(select(Photo.uuid))
    assert _count(AnswerPhoto, AnswerPhoto.photo_uuid == photo_uuid) == 1

    # Replaying again (page visible again, another start) sends nothing twice.
    page.goto("/app")
    page.locator("#sync-now").click()
    page.wait_for_selector("#sync-status:not([hidden])")
    _until(page, "document.getElementById('outbox-total').textContent === '0'")
    assert _count(Inspection) == 1 and _count(Photo) == 1 and _count(RectificationTicket) == 1


def test_reload_offline_mid_inspection_keeps_the_answers(phone, live_server):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _open(page, f"/l/{w['lab'].qr_token}", w["inspector"])
    page.wait_for_selector("#lab-card:not([hidden])")
    _wait_offline_ready(page)
    _start_checklist(page)
    page.locator("#mode-list").click()
    items = page.locator("#items > li")
    items.nth(0).locator(".choice.fail").click()
    items.nth(0).locator(".item-note").fill("应急通道堵塞")
    items.nth(0).locator(".item-note").blur()
    items.nth(1).locator(".choice.pass").click()
    items.nth(2).locator(".choice.na").click()
    _until(
        page,
        """async () => {
             const db = await new Promise((ok) => { const r = indexedDB.open('labsafe'); r.onsuccess = () => ok(r.result); });
             const all = await new Promise((ok) => { const r = db.transaction('drafts').objectStore('drafts').getAll(); r.onsuccess = () => ok(r.result); });
             db.close();
             return all.length === 1 && Object.values(all[0].answers).filter((a) => a.result).length === 3
               && Object.values(all[0].answers).some((a) => a.note === '应急通道堵塞');
           }""",
    )

    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    page.reload()
    page.wait_for_selector('body[data-inspect-ready="1"]')
    items = page.locator("#items > li")
    assert items.nth(0).get_attribute("data-result") == "fail"
    assert items.nth(0).locator(".item-note").input_value() == "应急通道堵塞"
    assert items.nth(1).get_attribute("data-result") == "pass"
    assert items.nth(2).get_attribute("data-result") == "na"
    assert items.nth(3).get_attribute("data-result") == ""
    assert page.locator("#mode-list").get_attribute("aria-pressed") == "true"


def test_officer_fixes_leader_rejects_once_then_verifies(phone, live_server):
    w = _world()
    ticket = make_ticket(w["lab"], article="21", title="插线板串接使用")

    officer = phone().new_page()
    _open(officer, f"/app/tickets/{ticket.id}", w["officer"])
    officer.wait_for_url(f"**/app/tickets/{ticket.id}")

    def submit_fix(text):
        officer.wait_for_selector('#action-buttons button[data-action="submit_fix"]')
        officer.locator("#action-note").fill(text)
        officer.locator("#fix-photo").set_input_files(photo_file("after.jpg"))
        officer.locator("#fix-thumbs figure").last.wait_for()
        officer.locator('#action-buttons button[data-action="submit_fix"]').click()
        officer.wait_for_selector('#ticket-state[data-state="fix_submitted"]')

    submit_fix("已拆除串接的插线板")

    leader = phone().new_page()
    _open(leader, f"/app/tickets/{ticket.id}", w["leader"])
    leader.wait_for_url(f"**/app/tickets/{ticket.id}")
    leader.wait_for_selector('#ticket-state[data-state="fix_submitted"]')
    # The after-photo is there as evidence.
    leader.wait_for_selector('#ticket-events li[data-kind="submit_fix"] .thumbs img')
    # Each history entry says what happened in the reader's language, not the raw kind.
    labels = leader.locator("#ticket-events li strong").all_inner_texts()
    assert labels[:3] == ["整改单已创建", "开始整改", "已提交整改"], labels
    leader.locator('#action-buttons button[data-action="reject"]').click()
    leader.wait_for_selector("#action-error:not([hidden])")  # a reason is required
    leader.locator("#action-note").fill("照片看不清插座，请重新拍摄")
    leader.locator('#action-buttons button[data-action="reject"]').click()
    leader.wait_for_selector('#ticket-state[data-state="fixing"]')

    officer.reload()
    officer.wait_for_selector('#ticket-state[data-state="fixing"]')
    assert "照片看不清插座" in officer.locator("#ticket-events").inner_text()
    submit_fix("已更换为带漏电保护的插座，附近照")

    leader.reload()
    leader.wait_for_selector('#ticket-state[data-state="fix_submitted"]')
    leader.locator("#action-note").fill("现场核查：已整改")
    leader.locator('#action-buttons button[data-action="verify"]').click()
    leader.wait_for_selector('#ticket-state[data-state="closed"]')

    db.session.expire_all()
    t = db.session.get(RectificationTicket, ticket.id)
    assert t.state.value == "closed"
    kinds = [e.kind for e in t.events]
    assert kinds.count("submit_fix") == 2 and kinds.count("reject") == 1 and kinds[-1] == "verify"


def test_lab_officer_does_the_daily_check_from_the_home_screen(phone, live_server):
    w = _world()
    page = phone().new_page()
    _open(page, "/app", w["officer"])
    page.wait_for_url("**/app")
    today = page.locator(f'#daily-list a[data-daily-lab="{w["lab"].id}"]')
    today.wait_for()
    assert "尚未完成" in today.inner_text()
    today.click()
    page.wait_for_url("**/inspect/daily?level=daily")
    page.wait_for_selector('body[data-inspect-ready="1"]')
    # One by one: a pass moves on to the next item by itself.
    items = page.locator("#items > li")
    n = items.count()
    for i in range(n):
        page.locator(f'#items > li[data-index="{i}"]:not([hidden]) .choice.pass').click()
    page.locator("#to-review").click()
    page.locator("#submit-inspection:not([disabled])").click()
    page.wait_for_selector('#done[data-state="submitted"]')
    assert _count(Inspection, Inspection.lab_id == w["lab"].id) == 1

    page.goto("/app")
    page.wait_for_selector(f'#daily-list li.done a[data-daily-lab="{w["lab"].id}"]')
    assert "已完成" in page.locator("#daily-list").inner_text()


def test_manual_code_entry_and_the_vendored_qr_decoder(phone, live_server):
    import base64
    import io

    import segno

    w = _world()
    page = phone().new_page()
    _open(page, "/app/scan", w["inspector"])
    page.wait_for_url("**/app/scan")
    # jsQR (vendored for browsers without BarcodeDetector) reads a door plate's QR.
    url = f"{live_server}/l/{w['lab'].qr_token}"
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=8, border=4)
    data_url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    page.add_script_tag(url="/static/vendor/jsqr-1.4.0/jsQR.js")
    decoded = page.evaluate("""async (src) => {
        const img = new Image(); img.src = src; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height);
        const code = window.jsQR(d.data, d.width, d.height);
        return code && code.data;
    }""", data_url)
    assert decoded == url
    # The decoded URL, typed or scanned, opens the lab card; so does the lab's code.
    page.locator("#manual-code").fill(decoded)
    page.locator("#manual-form button[type=submit]").click()
    page.wait_for_url(f"**/app/labs/{w['lab'].id}")
    page.goto("/app/scan")
    page.locator("#manual-code").fill(w["lab"].code.lower())
    page.locator("#manual-form button[type=submit]").click()
    page.wait_for_url(f"**/app/labs/{w['lab'].id}")


def test_home_lists_the_tickets_waiting_for_each_person(phone, live_server):
    w = _world()
    ticket = make_ticket(w["lab"], article="23", title="安全出口堵塞")
    officer = phone().new_page()
    _open(officer, "/app", w["officer"])
    officer.wait_for_selector(f'#my-ticket-list a[href="/app/tickets/{ticket.id}"]')
    leader = phone().new_page()
    _open(leader, "/app", w["leader"])
    leader.wait_for_selector("#outbox-total")
    # Nothing submitted for review yet: the leader's section stays hidden.
    leader.wait_for_selector("#my-tickets", state="hidden")
    assert leader.locator(f'#my-ticket-list a[href="/app/tickets/{ticket.id}"]').count() == 0

"""The outbox across CSRF-token expiry, an expired login, and logout: nothing a user submitted is lost."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.inspections.models import Inspection
from app.photos.models import Photo

from .test_inspector_flow import _log_in_on_page, _queue_offline_inspection, _until, _world


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_stale_csrf_token_and_expired_login_keep_the_outbox_until_it_arrives(phone, live_server):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _queue_offline_inspection(ctx, page, w)
    page.wait_for_selector('#outbox-badge[data-count="2"]')
    # Overnight: the page's token is stale and the session is gone.
    page.evaluate("document.querySelector('meta[name=\"csrf-token\"]').content = 'stale-token'")
    ctx.clear_cookies()
    ctx.set_offline(False)
    page.wait_for_selector("#relogin:not([hidden])")  # 400 csrf -> fresh token -> 401: log in again
    assert page.locator("#outbox-badge").get_attribute("data-count") == "2"
    assert _count(Inspection) == 0

    page.locator("#relogin a").click()
    _log_in_on_page(page, w["inspector"])
    # Replayed on app start: wait until the outbox in IndexedDB is empty, then the badge says so.
    _until(
        page,
        """async () => {
        const db = await new Promise((ok) => { const r = indexedDB.open('labsafe'); r.onsuccess = () => ok(r.result); });
        const n = await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').count(); r.onsuccess = () => ok(r.result); });
        db.close();
        return n === 0;
    }""",
    )
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    assert _count(Inspection) == 1 and _count(Photo) == 1


def test_logout_warns_about_the_unsent_outbox_and_clears_everything_else(phone, live_server):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _queue_offline_inspection(ctx, page, w)
    page.wait_for_selector('#outbox-badge[data-count="2"]')
    # A draft of another checklist in progress, too.
    page.goto(f"/app/labs/{w['lab'].id}")
    page.wait_for_selector("#lab-card:not([hidden])")
    # Mark the outbox items refused so that going online does not send them.
    page.evaluate("""async () => {
        const db = await new Promise((ok) => { const r = indexedDB.open('labsafe'); r.onsuccess = () => ok(r.result); });
        const items = await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').getAll(); r.onsuccess = () => ok(r.result); });
        await new Promise((ok) => { const tx = db.transaction('outbox', 'readwrite');
            for (const i of items) { i.status = 'failed'; i.error = 'test'; tx.objectStore('outbox').put(i); }
            tx.oncomplete = ok; });
        await new Promise((ok) => { const tx = db.transaction('drafts', 'readwrite');
            tx.objectStore('drafts').put({ key: 'x', user_id: document.body.dataset.userId, lab_id: 1, answers: {} });
            tx.oncomplete = ok; });
        db.close();
    }""")
    ctx.set_offline(False)
    _until(page, "navigator.onLine === true")

    page.locator("#logout-form button").click()
    page.wait_for_selector("#logout-dialog[open]")
    assert page.locator("#logout-items li").count() == 2
    page.locator("#logout-cancel").click()
    assert page.locator("#logout-dialog[open]").count() == 0
    page.locator("#logout-form button").click()
    page.locator("#logout-confirm").click()
    page.wait_for_url("**/login**")

    state = page.evaluate("""async () => {
        const names = await caches.keys();
        const db = await new Promise((ok) => { const r = indexedDB.open('labsafe'); r.onsuccess = () => ok(r.result); });
        const count = (s) => new Promise((ok) => { const r = db.transaction(s).objectStore(s).count(); r.onsuccess = () => ok(r.result); });
        const out = { caches: names, drafts: await count('drafts'), photos: await count('photos'), outbox: await count('outbox') };
        db.close();
        return out;
    }""")
    assert state["drafts"] == 0 and state["photos"] == 0
    assert state["outbox"] == 2  # kept: not yet on the server
    assert not [n for n in state["caches"] if n == "labsafe-data-v1" or n.startswith("labsafe-pages-")]


def test_a_conflicting_replay_is_kept_with_the_servers_message_until_the_user_discards_it(phone, live_server):
    from .test_inspector_flow import _open as open_as

    w = _world()
    page = phone().new_page()
    open_as(page, "/app", w["officer"])
    page.wait_for_url("**/app")
    page.locator(f'#daily-list a[data-daily-lab="{w["lab"].id}"]').click()
    page.wait_for_selector('body[data-inspect-ready="1"]')
    page.locator("#mode-list").click()
    items = page.locator("#items > li")
    for i in range(items.count()):
        items.nth(i).locator(".choice.pass").click()
    page.locator("#to-review").click()
    page.locator("#submit-inspection:not([disabled])").click()
    page.wait_for_selector('#done[data-state="submitted"]')
    db.session.expire_all()
    sent = db.session.scalar(select(Inspection))
    # The same UUID with other content (say, edited on a second device) must not overwrite it.
    page.goto("/app")
    page.wait_for_selector("#outbox-total")
    page.evaluate(
        """async ([uuid, labId, versionId, itemId]) => {
        const db = await new Promise((ok) => { const r = indexedDB.open('labsafe'); r.onsuccess = () => ok(r.result); });
        const now = new Date().toISOString();
        await new Promise((ok) => { const tx = db.transaction('outbox', 'readwrite');
            tx.objectStore('outbox').put({ id: uuid, kind: 'inspection', seq: 1, user_id: document.body.dataset.userId,
              created_at: now, status: 'pending', attempts: 0, error: null, deps: [], label: 'copy',
              body: { uuid, lab_id: labId, checklist_version_id: versionId, level: 'daily', started_at: now,
                      finished_at: now, note: 'edited elsewhere', answers: [{ item_id: itemId, result: 'pass', note: '', photos: [] }] } });
            tx.oncomplete = ok; });
        db.close();
    }""",
        [sent.uuid, w["lab"].id, sent.checklist_version_id, sent.answers[0].item_id],
    )
    page.locator("#sync-now").click()
    row = page.locator(f'#outbox-list li[data-id="{sent.uuid}"][data-status="conflict"]')
    row.wait_for()
    assert row.locator(".error").inner_text().strip()  # the server's message is shown
    assert _count(Inspection) == 1
    page.once("dialog", lambda d: d.accept())
    row.locator("button.danger").click()
    page.wait_for_selector(f'#outbox-list li[data-id="{sent.uuid}"]', state="detached")
    page.wait_for_selector('#outbox-badge[data-count="0"]')

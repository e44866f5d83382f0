"""A repeat visit to the PWA downloads no shell page: the service worker serves the shell pages from its
per-version cache (fetched when the version installs, or when the page finds them missing), the lab card
is drawn at once from the offline bundle and then from one GET /api/labs/<id>/card; static files come
by hashed URL from the worker's cache.

Requests are counted where they arrive: a WSGI wrapper around the live server's app records every
request the server receives, the page's and the service worker's alike.
"""
from __future__ import annotations

import re
import threading

from app.auth.models import Role
from app.pwa.views import SHELL_PAGES
from tests.factories import load_shipped_checklists, make_college, make_lab, make_ticket, make_user

from .test_inspector_flow import _until, _wait_offline_ready
from .test_phone_pages import _login

SHELLS = re.compile(r"^/app(/scan|/shell/lab|/shell/inspect|/tickets|/shell/ticket)?$")


class Recorder:
    """Every request's path the server receives; the lab card's API answer can be held back."""

    def __init__(self, app):
        self.app = app
        self.paths: list[str] = []
        self.hold = None  # a path whose answer waits for release
        self.released = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        with self.lock:
            self.paths.append(path)
        if path == self.hold:
            self.released.wait(timeout=30)
        return self.app(environ, start_response)

    def since(self, mark: int) -> list[str]:
        with self.lock:
            return self.paths[mark:]


def _world():
    load_shipped_checklists()
    college = make_college()
    lab = make_lab(college, category="chemistry", name="有机化学实验室", hazard_tags=["hazardous_chemicals"])
    make_ticket(lab, title="通风橱风速不足")
    inspector = make_user(Role.inspector, college=college, name="检查员")
    return lab, inspector


def _pages_cached(page) -> int:
    return page.evaluate("""async () => {
        const name = `labsafe-pages-${document.body.dataset.shellVersion}`;
        if (!(await caches.has(name))) return 0;
        return (await (await caches.open(name)).keys()).length;
    }""")


def _all_pages_cached(page) -> None:
    _until(page, "async () => { const name = `labsafe-pages-${document.body.dataset.shellVersion}`;"
                 " return (await caches.has(name)) && (await (await caches.open(name)).keys()).length"
                 " >= Number(document.body.dataset.shellPages); }")


def _first_visit(page, lab_id: int) -> None:
    page.goto(f"/app/labs/{lab_id}")
    page.wait_for_selector('[data-page="lab"][data-drawn="network"]')
    _wait_offline_ready(page)
    _all_pages_cached(page)


def _recorded_first_visit(app, phone):
    """The world, the server's request log, and the inspector's phone after a first visit to the lab card."""
    lab, inspector = _world()
    rec = Recorder(app.wsgi_app)
    app.wsgi_app = rec
    page = phone().new_page()
    _login(page, inspector)
    _first_visit(page, lab.id)
    return lab.id, inspector, rec, page


def test_repeat_visit_downloads_no_shell_page_and_draws_the_card_from_the_bundle(app, phone):
    lab_id, inspector, rec, page = _recorded_first_visit(app, phone)

    mark = len(rec.paths)
    rec.hold = f"/api/labs/{lab_id}/card"
    page.goto(f"/app/labs/{lab_id}")
    # Drawn from the bundle while the network's answer is still on its way.
    page.wait_for_selector('[data-page="lab"][data-drawn="bundle"]')
    assert page.locator("#lab-name").inner_text() == "有机化学实验室"
    assert "通风橱风速不足" in page.locator("#lab-tickets").inner_text()
    assert page.locator('a[data-checklist="full"][data-level="college"]').count() == 1
    rec.released.set()
    page.wait_for_selector('[data-page="lab"][data-drawn="network"]')
    page.evaluate("fetch('/api/csrf').then((r) => r.ok)")  # one more round trip after the page's own

    seen = rec.since(mark)
    assert not [p for p in seen if SHELLS.match(p) or p.startswith(f"/app/labs/{lab_id}")], seen
    assert not [p for p in seen if p.startswith("/static/")], seen  # hashed URLs, from the worker's cache
    assert seen.count(f"/api/labs/{lab_id}/card") == 1, seen
    assert not [p for p in seen if p in (f"/api/labs/{lab_id}", f"/api/labs/{lab_id}/tickets",
                                          f"/api/labs/{lab_id}/checklists")], seen
    assert _pages_cached(page) == len(SHELL_PAGES)  # every shell page, each once
    # The import map took effect (its hash is in the CSP): modules imported as './x.js' came hashed.
    modules = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name)"
                            ".filter((n) => n.includes('/static/js/'))")
    assert len(modules) >= 6 and all("?v=" in m for m in modules), modules


def test_pages_are_fetched_again_after_logout_and_login_only(app, phone):
    lab_id, inspector, rec, page = _recorded_first_visit(app, phone)

    page.locator("#logout-form button").click()
    page.wait_for_url("**/login**")
    assert _pages_cached(page) == 0
    mark = len(rec.paths)
    _login(page, inspector)
    _all_pages_cached(page)  # the worker fetched them again, once: the page found them missing
    shell_fetches = [p for p in rec.since(mark) if SHELLS.match(p)]
    assert len(shell_fetches) == len(set(shell_fetches)), shell_fetches

    mark = len(rec.paths)
    page.goto("/app/tickets")
    page.goto(f"/app/labs/{lab_id}")
    page.wait_for_selector('[data-page="lab"][data-drawn="network"]')
    page.evaluate("fetch('/api/csrf').then((r) => r.ok)")
    assert not [p for p in rec.since(mark) if SHELLS.match(p)]


def test_expired_session_shows_the_cached_card_and_the_relogin_prompt(app, phone):
    lab, inspector = _world()
    lab_id = lab.id
    ctx = phone()
    page = ctx.new_page()
    _login(page, inspector)
    _first_visit(page, lab_id)
    assert page.locator("#relogin").is_hidden()

    ctx.clear_cookies()  # the session is gone, the device's caches are not
    page.goto(f"/app/labs/{lab_id}")
    page.wait_for_selector("#relogin:not([hidden])")
    assert page.locator("#lab-name").inner_text() == "有机化学实验室"  # from the bundle
    page.goto("/app")
    page.wait_for_selector("#relogin:not([hidden])")


def test_a_login_by_someone_else_never_shows_the_previous_users_pages(app, phone):
    lab, inspector = _world()
    lab_id = lab.id
    other = make_user(Role.inspector, college=lab.college, name="另一位检查员")
    ctx = phone()
    page = ctx.new_page()
    _login(page, inspector)
    _first_visit(page, lab_id)

    ctx.clear_cookies()  # the first user's session expired; someone else logs in on this phone
    _login(page, other)
    page.goto(f"/app/labs/{lab_id}")
    page.wait_for_selector('[data-page="lab"][data-drawn="network"]')
    assert "另一位检查员" in page.locator("#logout-form .who").inner_text()
    assert page.evaluate("document.body.dataset.userId") == str(other.id)

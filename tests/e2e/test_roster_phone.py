"""The inspector on the spot (Playwright, Chromium): the lab card shows the roster, a search finds a person
by staff number, one tap records the art. 13(3) finding (through the outbox, offline too) and it becomes
one rectification ticket for the lab; a person not on the roster the same way."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app

from app.roster import services
from app.roster.models import RosterFinding
from app.tickets.models import RectificationTicket
from tests.e2e.test_inspector_flow import _count, _open, _until, _world
from tests.factories.roster import make_entry


def _until_recorded(n: int, timeout_s: float = 20) -> None:
    """Until the server holds ``n`` findings (the outbox sends in the background)."""
    deadline = time.monotonic() + timeout_s
    while _count(RosterFinding) < n:
        assert time.monotonic() < deadline, f"no {n} findings on the server"
        time.sleep(0.1)


def test_inspector_checks_a_person_and_records_a_finding_with_one_tap(phone):
    w = _world()
    today = services.today(current_app.config)
    make_entry(w["lab"], name="周同学", staff_no="2023101", valid_until=today + timedelta(days=100))
    expired = make_entry(w["lab"], name="吴同学", staff_no="2023102", valid_until=today - timedelta(days=3))
    ctx = phone()
    page = ctx.new_page()
    _open(page, f"/app/labs/{w['lab'].id}", w["inspector"])
    page.wait_for_selector("#roster-section:not([hidden])")
    assert page.locator("#roster-list li").count() == 2

    page.locator("#roster-search").fill("2023102")
    page.wait_for_selector('#roster-list li[data-staff-no="2023102"][data-status="expired"]')
    assert page.locator("#roster-list li").count() == 1
    assert "已过期" in page.locator("#roster-list li").inner_text()
    page.locator(f'#roster-list button[data-record="{expired.id}"]').click()  # one tap
    page.wait_for_selector("#roster-recorded:not([hidden])")
    _until_recorded(1)
    assert _count(RectificationTicket, RectificationTicket.article == "13(3)",
                  RectificationTicket.lab_id == w["lab"].id) == 1

    # Offline: a person not on the roster; the finding waits in the outbox and lands when the signal returns.
    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    page.locator("#roster-search").fill("陌生人")
    page.wait_for_selector("#roster-unlisted:not([hidden])")
    assert page.locator("#roster-unlisted-name").input_value() == "陌生人"
    page.locator("#roster-unlisted-record").click()
    page.wait_for_selector("#roster-recorded:not([hidden])")
    assert _count(RosterFinding) == 1
    ctx.set_offline(False)
    _until(page, "navigator.onLine === true")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _until_recorded(2)
    assert _count(RosterFinding) == 2
    assert _count(RectificationTicket, RectificationTicket.article == "13(3)") == 2


def test_offline_without_a_saved_roster_a_person_is_still_recorded_by_name(phone):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _open(page, "/app", w["inspector"])  # signed in, the shell cached; this lab's roster never opened
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _until(page, "navigator.serviceWorker.controller !== null")
    _until(page, "async () => Boolean(await caches.match('/app/shell/lab'))")
    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    page.goto(f"/app/labs/{w['lab'].id}")
    page.wait_for_selector("#roster-unlisted:not([hidden])")
    page.locator("#roster-unlisted-name").fill("无名氏")
    page.locator("#roster-unlisted-record").click()
    page.wait_for_selector("#roster-recorded:not([hidden])")
    ctx.set_offline(False)
    _until(page, "navigator.onLine === true")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _until_recorded(1)
    assert _count(RectificationTicket, RectificationTicket.article == "13(3)") == 1

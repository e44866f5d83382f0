"""Ticket work on one bar of signal (issue 21): actions go through the phone's outbox. An officer's
fix with an after-photo, made offline, lands when the signal returns (the report first, the photo
after); a leader's verify of a ticket that changed meanwhile shows the conflict, keeps every word
typed, and is redone on the ticket as it is now."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.photos.models import Photo
from app.photos.services import store_photo
from app.tickets import lifecycle
from app.tickets.models import RectificationTicket, TicketEvent, TicketEventPhoto
from tests.factories import make_ticket, make_user, photo_bytes
from tests.factories.inspections import new_uuid

from .conftest import photo_file
from .test_inspector_flow import _count, _open, _until, _world


def _ticket_state(ticket_id: int) -> str:
    db.session.expire_all()
    return db.session.get(RectificationTicket, ticket_id).state.value


def _open_ticket(page, ticket_id, user):
    _open(page, f"/app/tickets/{ticket_id}", user)
    page.wait_for_url(f"**/app/tickets/{ticket_id}")
    page.wait_for_selector("#ticket-card:not([hidden])")


def _go_offline(ctx, page):
    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")


def _go_online(ctx, page):
    ctx.set_offline(False)
    _until(page, "navigator.onLine === true")
    page.evaluate("window.dispatchEvent(new Event('online'))")


def _officer_fixing_offline(phone):
    """An open ticket on the officer's phone, the phone offline, the fix's words and after-photo entered."""
    w = _world()
    ticket = make_ticket(w["lab"], actor=w["inspector"])
    ctx = phone()
    page = ctx.new_page()
    _open_ticket(page, ticket.id, w["officer"])
    page.wait_for_selector('#action-buttons button[data-action="submit_fix"]')

    _go_offline(ctx, page)
    page.locator("#action-note").fill("已更换防爆柜并上锁")
    page.locator("#fix-photo").set_input_files(photo_file("after.jpg"))
    page.wait_for_selector("#fix-thumbs figure img")
    return w, ticket, ctx, page


def test_an_offline_fix_with_an_after_photo_lands_when_the_signal_returns(phone):
    w, ticket, ctx, page = _officer_fixing_offline(phone)
    page.locator('#action-buttons button[data-action="submit_fix"]').click()
    # Kept on the phone, waiting; its photo too. Nothing has reached the server.
    page.wait_for_selector('#queued-actions li[data-status="pending"] .photo-states li[data-state="waiting"]')
    assert "等待发送" in page.locator("#queued-actions").inner_text()
    assert page.locator("#ticket-actions").is_hidden()  # no second action on a ticket shown stale
    assert _ticket_state(ticket.id) == "open" and _count(Photo) == 0

    _go_online(ctx, page)
    page.wait_for_selector('#ticket-state[data-state="fix_submitted"]')
    # The photo follows the report and attaches itself: the event shows it, no longer "arriving".
    page.wait_for_selector('#ticket-events li[data-kind="submit_fix"] a.thumb img')
    page.wait_for_selector("#ticket-queue", state="hidden")
    assert _ticket_state(ticket.id) == "fix_submitted"
    submit = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.kind == "submit_fix")).one()
    assert submit.note == "已更换防爆柜并上锁" and submit.client_uuid
    photo_uuids = db.session.scalars(select(TicketEventPhoto.photo_uuid).where(TicketEventPhoto.event_id == submit.id)).all()
    assert len(photo_uuids) == 1
    assert db.session.scalar(select(Photo.uploaded_by_id).where(Photo.uuid == photo_uuids[0])) == w["officer"].id


def test_a_ticket_opened_offline_from_the_saved_copy_takes_a_fix_that_lands_later(phone):
    """The officer saw the home screen online (the tickets waiting for them are saved on the phone),
    then walks to the basement: the ticket opens without signal and takes the fix."""
    w = _world()
    ticket = make_ticket(w["lab"], actor=w["inspector"])
    ctx = phone()
    page = ctx.new_page()
    _open(page, "/app", w["officer"])
    page.wait_for_url("**/app")
    page.wait_for_selector(f'#my-ticket-list a[href="/app/tickets/{ticket.id}"]')
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _until(page, "navigator.serviceWorker.controller !== null")
    _until(page, f"""async () => Boolean(await caches.match('/offline/tickets/{ticket.id}'))
                        && Boolean(await caches.match('/app/shell/ticket'))""")

    _go_offline(ctx, page)
    page.goto(f"/app/tickets/{ticket.id}")  # the worker's shell; the ticket from the saved copy
    page.wait_for_selector("#ticket-card:not([hidden])")
    assert "离线" in page.locator("#ticket-status").inner_text()
    page.locator("#action-note").fill("已清理通道")
    page.locator("#fix-photo").set_input_files(photo_file("after.jpg"))
    page.wait_for_selector("#fix-thumbs figure img")
    page.locator('#action-buttons button[data-action="submit_fix"]').click()
    page.wait_for_selector('#queued-actions li[data-status="pending"]')
    assert _ticket_state(ticket.id) == "open"

    _go_online(ctx, page)
    page.wait_for_selector('#ticket-state[data-state="fix_submitted"]')
    page.wait_for_selector('#ticket-events li[data-kind="submit_fix"] a.thumb img')  # the photo followed
    page.wait_for_selector("#ticket-queue", state="hidden")
    assert _ticket_state(ticket.id) == "fix_submitted" and _count(Photo) == 1


def test_an_offline_verify_of_a_changed_ticket_shows_the_conflict_and_is_redone(phone):
    w = _world()
    other_leader = make_user(Role.college_leader, college=w["lab"].college, name="另一位领导")
    ticket = make_ticket(w["lab"], actor=w["inspector"])
    config = current_app.config
    lifecycle.perform_action(w["officer"], ticket.id, "start_fix", config=config)
    after = store_photo(w["officer"], new_uuid(), photo_bytes(seed=4), config).photo
    lifecycle.perform_action(w["officer"], ticket.id, "submit_fix", config=config, note="已整改", photos=[after.uuid])
    ctx = phone()
    page = ctx.new_page()
    _open_ticket(page, ticket.id, w["leader"])
    page.wait_for_selector('#action-buttons button[data-action="verify"]')

    _go_offline(ctx, page)
    proof = "现场核查：防爆柜已上锁，标识齐全"
    page.locator("#action-note").fill(proof)
    page.locator('#action-buttons button[data-action="verify"]').click()
    page.wait_for_selector('#queued-actions li[data-status="pending"]')
    # Meanwhile someone else moves the ticket (escalated to the college: version 4 -> 5).
    lifecycle.perform_action(other_leader, ticket.id, "escalate", config=config, note="需学院统一处理")

    _go_online(ctx, page)
    page.wait_for_selector('#queued-actions li[data-status="conflict"] .ticket-now')
    db.session.expire_all()
    fresh = db.session.get(RectificationTicket, ticket.id)
    # What changed, read fresh: the state and the version the ticket has now.
    assert page.locator("#queued-actions .ticket-now").inner_text() == f"整改单当前：已提交整改，版本 {fresh.version}。"
    # Nothing typed is lost: shown with the conflict, and back in the form.
    assert page.locator('#queued-actions li[data-status="conflict"] .typed-note').inner_text() == proof
    assert page.locator("#action-note").input_value() == proof
    assert _ticket_state(ticket.id) == "fix_submitted"

    page.locator("#queued-actions button[data-redo]").click()
    page.wait_for_selector('#ticket-state[data-state="closed"]')
    page.wait_for_selector("#ticket-queue", state="hidden")
    verify = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.kind == "verify")).all()
    assert [(e.actor_id, e.note) for e in verify] == [(w["leader"].id, proof)]
    assert _ticket_state(ticket.id) == "closed"

"""The reply slip signed on the phone (issue 23; art. 28): the lab's officer submits a fix offline and signs it
on the screen (a missing name stops them first); back online the action syncs through the outbox, the signature
is stored with the fix, and once the college leader has verified it, the reply (整改回执) that
`flask issue-documents` issues carries the officer's signature and is sent to the officer.

Waits are on state (selectors, DB rows), never on time."""
from __future__ import annotations

import io

from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select

from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db
from app.notifications.services import inbox
from app.photos.services import store_photo
from app.tickets import lifecycle
from app.tickets.models import TicketSignature
from tests.documents.helpers import pdf_text
from tests.factories import make_ticket, photo_bytes
from tests.factories.inspections import new_uuid

from .test_inspector_flow import _open, _world
from .test_offline_ticket_actions import _go_online, _officer_fixing_offline, _ticket_state
from .test_signatures import _sign


def test_an_officer_signs_an_offline_fix_and_the_reply_carries_it(phone, app):
    w, ticket, ctx, page = _officer_fixing_offline(phone)
    assert page.locator("#reply-slip").is_visible()  # the reply slip's signature box, with the fix
    _sign(page, "signer")
    page.locator('#action-buttons button[data-action="submit_fix"]').click()
    page.wait_for_selector("#action-error:not([hidden])")  # signed without a name: written first
    assert _ticket_state(ticket.id) == "open"
    page.locator("#reply-slip .signer-name").fill("安全员王五")
    page.locator('#action-buttons button[data-action="submit_fix"]').click()
    page.wait_for_selector('#queued-actions li[data-status="pending"]')
    assert db.session.scalar(select(TicketSignature)) is None  # still on the phone

    _go_online(ctx, page)
    page.wait_for_selector('#ticket-state[data-state="fix_submitted"]')
    page.wait_for_selector("#ticket-queue", state="hidden")
    db.session.expire_all()
    [signature] = db.session.scalars(select(TicketSignature)).all()
    assert signature.name == "安全员王五" and not signature.refused and signature.event.kind == "submit_fix"
    db.session.refresh(signature, ["png"])
    assert signature.png.startswith(b"\x89PNG")

    lifecycle.perform_action(w["leader"], ticket.id, "verify", config=current_app.config, note="现场复查合格")
    result = app.test_cli_runner().invoke(args=["issue-documents"])
    assert result.exit_code == 0 and '"replies": 1' in result.output, result.output
    reply = db.session.scalar(select(IssuedDocument).where(IssuedDocument.kind == DocumentKind.rectification_reply))
    assert reply.ticket_id == ticket.id
    text = "".join(pdf_text(reply.pdf).split())
    assert "安全员王五" in text and "已更换防爆柜并上锁" in text
    assert sum(len(p.images) for p in PdfReader(io.BytesIO(reply.pdf)).pages) >= 1  # the drawn signature
    assert [e for e in inbox(w["officer"], locale="zh_CN")
            if e.kind == "document_issued" and e.link == f"/documents/{reply.id}"]


def test_a_leader_signs_the_verification_on_the_web_page(browser, live_server):
    w = _world()
    ticket = make_ticket(w["lab"], actor=w["inspector"])
    config = current_app.config
    lifecycle.perform_action(w["officer"], ticket.id, "start_fix", config=config)
    after = store_photo(w["officer"], new_uuid(), photo_bytes(seed=4), config).photo
    lifecycle.perform_action(w["officer"], ticket.id, "submit_fix", config=config, note="已整改", photos=[after.uuid])
    ctx = browser.new_context(base_url=live_server)
    try:
        page = ctx.new_page()
        _open(page, f"/tickets/{ticket.id}", w["leader"])
        page.wait_for_url(f"**/tickets/{ticket.id}")
        form = page.locator('form:has(input[name="action"][value="verify"])')
        form.locator("textarea[name=note]").fill("现场复查合格")
        assert form.locator(".signer-name").input_value() == "分管领导"  # prefilled with the leader's name
        _sign(page, "signer")
        assert form.locator('input[name="signature_image"]').input_value().startswith("data:image/png;base64,")
        form.locator('button[type="submit"]').click()
        page.wait_for_selector('.timeline li .signed[data-role="verifier"]')
    finally:
        ctx.close()
    db.session.expire_all()
    [signature] = db.session.scalars(select(TicketSignature)).all()
    assert signature.name == "分管领导" and signature.event.kind == "verify" and _ticket_state(ticket.id) == "closed"

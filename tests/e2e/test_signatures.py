"""Signatures on the phone (issue 23): an inspector inspects offline, finds a failure, and the
inspector and the lab's representative sign on the screen; back online the inspection syncs, and the
record and the rectification notice carry both signatures, the notice in the lab officer's inbox.

The notice is issued and sent by `flask issue-documents` (app/documents/issuing.py, run every few
minutes beside send-mail), not by the submit itself: the test runs that command after the sync.
Waits are on state (selectors, DB rows), never on time.
"""
from __future__ import annotations

from sqlalchemy import select

from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db
from app.inspections.models import Inspection, InspectionSignature
from app.notifications.services import inbox
from tests.documents.helpers import pdf_text
from tests.factories import login

from .test_inspector_flow import _inspect_offline, _world


def _sign(page, role: str, seed: int = 0):
    """Draws a stroke on the role's canvas with the mouse, as a finger would."""
    canvas = page.locator(f'.signer[data-role="{role}"] canvas')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 10, y + h * 0.7)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 10 + step * (w - 20) / 10, y + h * (0.3 if step % 2 else 0.7) + seed, steps=2)
    page.mouse.up()
    page.wait_for_selector(f'.signer[data-role="{role}"][data-signed="1"]')


def test_signed_offline_the_record_and_the_notice_carry_both_signatures(phone, live_server, app, client):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _inspect_offline(ctx, page, w)
    page.locator("#to-review").click()

    inspector_name = page.locator('.signer[data-role="inspector"] .signer-name')
    assert inspector_name.input_value() == "检查员"  # prefilled with the inspector's own name
    _sign(page, "inspector")
    _sign(page, "lab_representative", seed=3)
    page.locator("#submit-inspection:not([disabled])").click()
    page.wait_for_selector("#signature-problem:not([hidden])")  # the representative's name is missing
    page.locator('.signer[data-role="lab_representative"] .signer-name').fill("实验室代表张三")
    page.locator("#submit-inspection:not([disabled])").click()
    page.wait_for_selector('#done[data-state="queued"]')
    assert db.session.scalar(select(Inspection)) is None  # still on the phone

    ctx.set_offline(False)  # the `online` event replays the outbox
    page.wait_for_selector('#done[data-state="submitted"]')
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    db.session.expire_all()
    inspection = db.session.scalar(select(Inspection))
    signed = db.session.scalars(select(InspectionSignature).order_by(InspectionSignature.role)).all()
    assert [(s.role.value, s.name, s.refused) for s in signed] == [
        ("inspector", "检查员", False), ("lab_representative", "实验室代表张三", False)]

    # What the server runs every few minutes: the notice issued and sent to the lab's officer.
    result = app.test_cli_runner().invoke(args=["issue-documents"])
    assert result.exit_code == 0 and '"notices": 1' in result.output, result.output
    notice = db.session.scalar(select(IssuedDocument).where(IssuedDocument.kind == DocumentKind.rectification_notice))
    assert notice.inspection_id == inspection.id
    assert [e for e in inbox(w["officer"], locale="zh_CN")
            if e.kind == "document_issued" and e.link == f"/documents/{notice.id}"]

    login(client, w["inspector"])
    for document in ("report", "notice"):
        resp = client.get(f"/inspections/{inspection.id}/{document}.pdf")
        assert resp.status_code == 200
        text = "".join(pdf_text(resp.data).split())
        assert "检查员" in text and "实验室代表张三" in text and "检查人签字" in text

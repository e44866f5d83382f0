"""The phone shows the server's score and grade after submit (issue 22): online at once from the
submit's response, and for an inspection queued offline from the receipt sync.js keeps when it is sent."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.inspections.models import Inspection

from .test_inspector_flow import (
    _answer_all_pass_but_first,
    _open,
    _queue_offline_inspection,
    _review_and_submit,
    _start_checklist,
    _world,
)


def _shown_grade(page, lab_id):
    page.wait_for_selector('#done[data-state="submitted"]')
    page.wait_for_selector("#done-grade:not([hidden])")
    db.session.expire_all()
    inspection = db.session.scalar(select(Inspection).where(Inspection.lab_id == lab_id))
    assert inspection.grade in ("A", "B", "C", "D") and inspection.score is not None
    assert page.locator("#done-grade").get_attribute("data-grade") == inspection.grade
    text = page.locator("#done-grade").inner_text()
    assert f"{inspection.score:.1f}" in text and inspection.grade in text
    return text


def test_the_phone_shows_score_and_grade_after_submit(phone, live_server):
    w = _world()
    page = phone().new_page()
    _open(page, f"/l/{w['lab'].qr_token}", w["inspector"])
    page.wait_for_selector("#lab-card:not([hidden])")
    _start_checklist(page)
    _answer_all_pass_but_first(page)
    _review_and_submit(page)
    assert "得分" in _shown_grade(page, w["lab"].id)  # zh-CN first


def test_an_offline_inspection_shows_its_grade_once_synced(phone, live_server):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _queue_offline_inspection(ctx, page, w)
    assert page.locator("#done-grade").is_hidden()  # nothing known yet on the phone
    ctx.set_offline(False)  # the `online` event sends it; the receipt carries the grade
    _shown_grade(page, w["lab"].id)
    # The receipt kept on the phone (sync.js RECEIPTS_KEY) carries them for a later visit too.
    receipt = page.evaluate("() => JSON.parse(localStorage.getItem('labsafe-sent') || '[]')[0]")
    db.session.expire_all()
    inspection = db.session.scalar(select(Inspection).where(Inspection.lab_id == w["lab"].id))
    assert (receipt["score"], receipt["grade"]) == (inspection.score, inspection.grade)

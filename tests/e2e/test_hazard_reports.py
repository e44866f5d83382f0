"""A hazard reported from the door QR on no signal (issue 24, art. 30): a user with no role scans the
lab's code, writes the hazard and takes a photo offline; the report waits in the phone's outbox and
lands, with its photo, when the signal returns; the lab's officer opens a rectification ticket from it."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.hazards.models import HazardReport, HazardReportPhoto
from app.photos.models import Photo
from app.tickets.models import RectificationTicket
from tests.factories import make_user

from .conftest import photo_file
from .test_inspector_flow import _count, _open, _until, _wait_offline_ready, _world
from .test_offline_ticket_actions import _go_offline, _go_online


def _at_the_door(phone, name):
    """A user with no role scans the lab's door QR on a phone and signs in: (world, user, context, page)."""
    w = _world()
    student = make_user(name=name)
    ctx = phone()
    page = ctx.new_page()
    _open(page, f"/l/{w['lab'].qr_token}", student)
    page.wait_for_url(f"**/app/labs/{w['lab'].id}**")
    return w, student, ctx, page


def test_a_hazard_reported_offline_at_the_door_becomes_a_ticket(phone):
    w, student, ctx, page = _at_the_door(phone, "学生")
    page.wait_for_selector("#hazard-section:not([hidden])")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    _go_offline(ctx, page)
    page.locator("#hazard-text").fill("通风橱风机不转，有刺激性气味")
    page.locator("#hazard-photos").set_input_files(photo_file("hood.jpg"))
    page.locator("#hazard-submit").click()
    page.wait_for_selector('#hazard-section[data-state="queued"]')
    _until(page, "document.querySelector('#hazard-text').value === ''")
    assert _count(HazardReport) == 0  # kept on the phone

    _go_online(ctx, page)
    page.wait_for_selector('#hazard-section[data-state="sent"]')
    _until(page, "document.querySelector('#outbox-count').textContent.trim() === '0'")
    db.session.expire_all()
    report = db.session.scalars(select(HazardReport)).one()
    assert report.reporter_id == student.id and report.text == "通风橱风机不转，有刺激性气味"
    photo_uuid = db.session.scalars(select(HazardReportPhoto.photo_uuid)).one()
    assert db.session.scalar(select(Photo.uploaded_by_id).where(Photo.uuid == photo_uuid)) == student.id
    page.wait_for_selector(f'#hazard-mine li[data-report-id="{report.id}"]')

    officer_ctx = phone()
    desk = officer_ctx.new_page()
    _open(desk, f"/hazards/{report.id}", w["officer"])
    desk.wait_for_url(f"**/hazards/{report.id}")
    desk.locator('#open-ticket-form select[name="severity"]').select_option("general")
    desk.locator("#open-ticket-form button[type=submit]").click()
    desk.wait_for_selector("#hazard-ticket")
    db.session.expire_all()
    report = db.session.get(HazardReport, report.id)
    assert report.state.value == "ticketed"
    ticket = db.session.get(RectificationTicket, report.ticket_id)
    assert ticket.lab_id == w["lab"].id
    desk.locator("#hazard-ticket").click()
    desk.wait_for_selector(f'#ticket-origin[href="/hazards/{report.id}"]')


def _only_the_report_form(page):
    """The page drew the report form alone: no error, nothing of the lab's card."""
    page.wait_for_selector('[data-page="lab"][data-drawn="report-only"]', state="attached")
    page.wait_for_selector("#hazard-section:not([hidden])")
    assert page.locator("#lab-status").is_hidden()
    assert page.locator("#lab-status").text_content().strip() == ""
    body = page.locator("body").inner_text()
    assert "You do not have permission" not in body and "您无权执行此操作" not in body
    for section in ("#lab-card", "#checklists-section", "#tickets-section", "#roster-section"):
        assert page.locator(section).is_hidden(), section
    assert page.locator("#lab-name").text_content().strip() == ""


def test_a_user_without_rights_on_the_lab_sees_only_the_report_form_online_and_offline(phone):
    """A student with no role opens the lab's QR page: no "permission" error above the report form, online
    or, the page opened again, offline; the report still goes out through the outbox."""
    w, student, ctx, page = _at_the_door(phone, "学生乙")
    _only_the_report_form(page)
    _wait_offline_ready(page)

    _go_offline(ctx, page)
    page.goto(f"/app/labs/{w['lab'].id}")
    _only_the_report_form(page)
    page.locator("#hazard-text").fill("洗眼器被纸箱挡住")
    page.locator("#hazard-submit").click()
    page.wait_for_selector('#hazard-section[data-state="queued"]')
    assert page.locator("#lab-status").is_hidden()
    _go_online(ctx, page)
    page.wait_for_selector('#hazard-section[data-state="sent"]')
    db.session.expire_all()
    report = db.session.scalars(select(HazardReport)).one()
    assert report.reporter_id == student.id and report.lab_id == w["lab"].id

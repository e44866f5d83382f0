"""An accident reported from the phone without signal (art. 31, app/accidents): the report and its photo wait
in the outbox and land when the signal returns, report first; the accident is recorded once, with its photo."""
from __future__ import annotations

from sqlalchemy import select

from app.accidents.models import Accident, AccidentPhoto
from app.extensions import db
from app.photos.models import Photo

from .conftest import photo_file
from .test_inspector_flow import _count, _open, _until, _wait_offline_ready, _world


def _report_offline(ctx, page, lab, text, photo, fields=None):
    """Offline, the form from the service worker's cache: the lab chosen, what happened, a photo; sent to
    the outbox."""
    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    page.goto(f"/app/accidents/new?lab={lab.id}")  # served by the service worker from its cache
    page.wait_for_selector(f"#accident-lab option[value='{lab.id}']", state="attached")
    assert page.locator("#accident-no-labs").is_hidden()
    page.locator("textarea[name=description]").fill(text)
    for selector, value in (fields or {}).items():
        page.locator(selector).fill(value)
    page.locator("#accident-photo").set_input_files(photo_file(photo))
    page.wait_for_selector("#accident-thumbs figure img")
    page.locator("#accident-send").click()
    page.wait_for_selector("#accident-queued:not([hidden])")


def _online_until_the_photo_lands(ctx, page):
    ctx.set_offline(False)
    _until(page, "navigator.onLine === true")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#accident-sent:not([hidden])")
    for _ in range(100):  # the photo follows the report
        if _count(Photo) == 1:
            break
        page.wait_for_timeout(100)


def test_an_accident_reported_offline_lands_when_the_signal_returns(phone):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _open(page, "/app", w["officer"])
    page.wait_for_url("**/app")
    _wait_offline_ready(page)
    _until(page, "async () => Boolean(await caches.match('/app/accidents/new'))")

    _report_offline(ctx, page, w["lab"], "酒精灯打翻引燃桌面纸张，已用灭火毯扑灭", "scene.jpg",
                    {"input[name=property_loss_yuan]": "500"})
    assert _count(Accident) == 0 and _count(Photo) == 0
    _online_until_the_photo_lands(ctx, page)
    assert _count(Accident) == 1
    db.session.expire_all()
    a = db.session.scalar(select(Accident))
    assert a.lab_id == w["lab"].id and a.property_loss_yuan == 500 and a.proposed_grade.value == "IV"
    photo_uuid = db.session.scalar(select(AccidentPhoto.photo_uuid).where(AccidentPhoto.accident_id == a.id))
    assert db.session.scalar(select(Photo.uploaded_by_id).where(Photo.uuid == photo_uuid)) == w["officer"].id


def test_a_college_head_reports_offline_with_a_scene_photo(phone):
    """A college's head inspects no lab (their offline bundle holds none), yet reports an accident from the
    phone offline, with a scene photo: the labs they may report in were kept when the form was last online."""
    from app.auth.models import Role
    from tests.factories import make_user

    w = _world()
    head = make_user(Role.college_head, college=w["lab"].college, name="院长")
    ctx = phone()
    page = ctx.new_page()
    _open(page, "/app/accidents/new", head)
    page.wait_for_url("**/app/accidents/new")
    page.wait_for_selector(f"#accident-lab option[value='{w['lab'].id}']", state="attached")
    assert page.locator("#accident-photo").count() == 1
    _wait_offline_ready(page)
    _until(page, "async () => Boolean(await caches.match('/app/accidents/new'))")

    _report_offline(ctx, page, w["lab"], "电炉过热冒烟，已断电", "smoke.jpg")
    _online_until_the_photo_lands(ctx, page)
    db.session.expire_all()
    a = db.session.scalar(select(Accident))
    assert a.lab_id == w["lab"].id and a.reported_by_id == head.id
    photo_uuid = db.session.scalar(select(AccidentPhoto.photo_uuid).where(AccidentPhoto.accident_id == a.id))
    assert db.session.scalar(select(Photo.uploaded_by_id).where(Photo.uuid == photo_uuid)) == head.id
    # The accident's readers see it: the lab's officer opens the accident's page and its photo.
    officer = ctx.browser.new_context(**{"viewport": {"width": 390, "height": 844}})
    desk = officer.new_page()
    desk.goto(page.url.split("/app/")[0] + f"/accidents/{a.id}")
    from .test_inspector_flow import _log_in_on_page

    _log_in_on_page(desk, w["officer"])
    desk.wait_for_url(f"**/accidents/{a.id}")
    desk.wait_for_selector(f"img[src='/photos/{photo_uuid}/thumb']")
    assert desk.request.get(page.url.split("/app/")[0] + f"/photos/{photo_uuid}/thumb").status == 200
    officer.close()

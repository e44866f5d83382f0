"""An accident reported from the phone without signal (art. 31, app/accidents): the report and its photo wait
in the outbox and land when the signal returns, report first; the accident is recorded once, with its photo."""
from __future__ import annotations

from sqlalchemy import select

from app.accidents.models import Accident, AccidentPhoto
from app.extensions import db
from app.photos.models import Photo

from .conftest import photo_file
from .test_inspector_flow import _count, _open, _until, _wait_offline_ready, _world


def test_an_accident_reported_offline_lands_when_the_signal_returns(phone):
    w = _world()
    ctx = phone()
    page = ctx.new_page()
    _open(page, "/app", w["officer"])
    page.wait_for_url("**/app")
    _wait_offline_ready(page)
    _until(page, "async () => Boolean(await caches.match('/app/accidents/new'))")

    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    page.goto(f"/app/accidents/new?lab={w['lab'].id}")  # served by the service worker from its cache
    page.wait_for_selector(f"#accident-lab option[value='{w['lab'].id}']", state="attached")
    page.locator("textarea[name=description]").fill("酒精灯打翻引燃桌面纸张，已用灭火毯扑灭")
    page.locator("input[name=property_loss_yuan]").fill("500")
    page.locator("#accident-photo").set_input_files(photo_file("scene.jpg"))
    page.wait_for_selector("#accident-thumbs figure img")
    page.locator("#accident-send").click()
    page.wait_for_selector("#accident-queued:not([hidden])")
    assert _count(Accident) == 0 and _count(Photo) == 0

    ctx.set_offline(False)
    _until(page, "navigator.onLine === true")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#accident-sent:not([hidden])")
    _until(page, "async () => true")
    for _ in range(100):  # the photo follows the report
        if _count(Photo) == 1:
            break
        page.wait_for_timeout(100)
    assert _count(Accident) == 1
    db.session.expire_all()
    a = db.session.scalar(select(Accident))
    assert a.lab_id == w["lab"].id and a.property_loss_yuan == 500 and a.proposed_grade.value == "IV"
    photo_uuid = db.session.scalar(select(AccidentPhoto.photo_uuid).where(AccidentPhoto.accident_id == a.id))
    assert db.session.scalar(select(Photo.uploaded_by_id).where(Photo.uuid == photo_uuid)) == w["officer"].id

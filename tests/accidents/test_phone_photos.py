"""Scene photos (art. 31) from everyone who may report an accident: a college's head and a department officer
(no inspectors, so their offline bundle holds no lab) get the labs they may report in and the photo button on
the phone, and the photo field on the web form; the photos then show to the accident's readers."""
from __future__ import annotations

import io
import uuid

from sqlalchemy import select

from app.accidents.models import Accident, AccidentPhoto
from app.extensions import db
from tests.e2e.conftest import jpeg_bytes
from tests.factories import login
from tests.factories.accidents import accident_body

from .helpers import world


def _as(app, user):
    c = app.test_client()
    login(c, user)
    return c


def _thumb(client, user, photo_uuid):
    return _as(client.application, user).get(f"/photos/{photo_uuid}/thumb").status_code


def _readers_see(client, w, photo_uuid, *readers):
    for reader in readers:
        assert _thumb(client, reader, photo_uuid) == 200, reader.username
    assert _thumb(client, w.other_leader, photo_uuid) == 403  # another college's people never


def test_the_labs_to_report_in(app, client):
    w = world()
    for user, expected in ((w.head, {w.lab.id, w.lab2.id}), (w.officer, {w.lab.id, w.lab2.id}),
                           (w.security_officer, {w.lab.id, w.lab2.id, w.other_lab.id}),
                           (w.other_leader, {w.other_lab.id})):
        resp = _as(app, user).get("/api/accidents/labs")
        assert resp.status_code == 200
        assert {lab["id"] for lab in resp.get_json()} == expected, user.username
        assert set(resp.get_json()[0]) == {"id", "code", "name", "name_en"}


def test_the_phone_form_offers_the_photo_button_to_every_reporter(app, client):
    w = world()
    for user in (w.head, w.leader, w.lab_dept, w.security_officer, w.officer, w.admin):
        c = _as(app, user)
        assert 'id="accident-photo"' in c.get("/app/accidents/new").get_data(as_text=True), user.username
        assert 'name="photos"' in c.get("/accidents/new").get_data(as_text=True), user.username


def test_a_head_reports_from_the_phone_with_a_photo_and_the_readers_see_it(app, client):
    w = world()
    login(client, w.head)
    photo_uuid = str(uuid.uuid4())
    resp = client.post("/api/accidents", json=accident_body(w.lab, photos=[photo_uuid]))
    assert resp.status_code == 201, resp.get_json()
    # The photo after the report (the outbox's order): uploaded under the UUID the report names.
    up = client.put(f"/api/photos/{photo_uuid}", data={"file": (io.BytesIO(jpeg_bytes(800, 600)), "scene.jpg")},
                    content_type="multipart/form-data")
    assert up.status_code == 201, up.get_json()
    detail = client.get(f"/api/accidents/{resp.get_json()['id']}").get_json()
    assert [p["uuid"] for p in detail["photos"]] == [photo_uuid]
    _readers_see(client, w, photo_uuid, w.head, w.leader, w.admin, w.officer, w.lab_dept, w.security_officer)


def test_a_department_officer_reports_on_the_web_form_with_photos(app, client):
    w = world()
    login(client, w.security_officer)
    form = {"client_uuid": str(uuid.uuid4()), "lab_code": w.lab.code, "occurred_at": "2026-01-05T10:30",
            "description": "烘箱冒烟，已断电", "environment": "none", "stability": "none", "property_loss_yuan": "300"}
    files = [(io.BytesIO(jpeg_bytes(900, 600)), "a.jpg"), (io.BytesIO(jpeg_bytes(600, 900, (20, 90, 200))), "b.jpg")]
    resp = client.post("/accidents/new", data={**form, "photos": files}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    a = db.session.scalar(select(Accident))
    uuids = list(db.session.scalars(select(AccidentPhoto.photo_uuid).where(AccidentPhoto.accident_id == a.id)
                                    .order_by(AccidentPhoto.position)))
    assert len(uuids) == 2
    page = client.get(f"/accidents/{a.id}").get_data(as_text=True)
    assert all(f"/photos/{u}/thumb" in page for u in uuids)
    _readers_see(client, w, uuids[0], w.security_officer, w.leader, w.head, w.admin, w.officer)
    # The same form sent again (a double tap): the same accident, each photo once.
    files = [(io.BytesIO(jpeg_bytes(900, 600)), "a.jpg"), (io.BytesIO(jpeg_bytes(600, 900, (20, 90, 200))), "b.jpg")]
    again = client.post("/accidents/new", data={**form, "photos": files}, content_type="multipart/form-data")
    assert again.status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(Accident)) == 1
    assert db.session.scalar(select(db.func.count()).select_from(AccidentPhoto)) == 2


def test_a_photo_that_is_not_an_image_does_not_lose_the_report(app, client):
    w = world()
    login(client, w.head)
    form = {"client_uuid": str(uuid.uuid4()), "lab_code": w.lab.code, "occurred_at": "2026-01-05T10:30",
            "description": "试剂泄漏", "environment": "none", "stability": "none"}
    resp = client.post("/accidents/new", data={**form, "photos": [(io.BytesIO(b"not a photo"), "x.jpg")]},
                       content_type="multipart/form-data", follow_redirects=True)
    assert resp.status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(Accident)) == 1

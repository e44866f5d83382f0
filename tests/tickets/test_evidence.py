"""A ticket opened by a failed answer shows that answer's photos as its evidence (read through the
reader create_app wires: the inspection owns its photos)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.tickets.models import RectificationTicket
from tests.factories import login, photo_bytes
from tests.factories.inspections import make_inspection, make_small_world
from tests.factories.tickets import make_ticket


def test_ticket_detail_lists_the_failed_answers_photos(app, client):
    w = make_small_world()
    inspection, photo = make_inspection(w.inspector_a, w.lab_a, w.full, fail_with_photo=photo_bytes(seed=3))
    ticket = db.session.scalars(select(RectificationTicket).filter_by(inspection_id=inspection.id)).one()
    login(client, w.officer_a)
    body = client.get(f"/api/tickets/{ticket.id}").get_json()
    assert [p["uuid"] for p in body["evidence_photos"]] == [photo.uuid]


def test_ticket_without_an_answer_has_no_evidence(app, client):
    w = make_small_world()
    ticket = make_ticket(w.lab_a)
    login(client, w.officer_a)
    assert client.get(f"/api/tickets/{ticket.id}").get_json()["evidence_photos"] == []

"""An inspector's finding on the spot (art. 13(3)): a person without valid access becomes a rectification
ticket through tickets' service, once per client UUID."""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.roster import services
from app.roster.models import RosterFinding
from app.tickets.models import RectificationTicket
from tests.factories import login, make_lab, make_user
from tests.factories.roster import make_entry


def _tickets():
    return db.session.scalar(select(func.count()).select_from(RectificationTicket))


def test_a_finding_opens_one_ticket_and_a_replay_opens_none(app, client):
    lab = make_lab()
    inspector = make_user(Role.inspector, college=lab.college_id)
    expired = make_entry(lab, name="钱九", staff_no="E1",
                         valid_until=services.today(current_app.config) - timedelta(days=1))
    valid = make_entry(lab, name="吴十", staff_no="V1")
    services.update_entry(inspector, valid, {"valid_until": services.today(current_app.config) + timedelta(days=30)})
    login(client, inspector)
    body = {"client_uuid": str(uuid.uuid4()), "entry_id": expired.id, "note": "在通风橱前操作"}
    resp = client.post(f"/api/labs/{lab.id}/roster/findings", json=body)
    assert resp.status_code == 201, resp.get_json()
    finding = resp.get_json()
    assert finding["reason"] == "expired"
    ticket = db.session.get(RectificationTicket, finding["ticket_id"])
    assert ticket.article == "13(3)" and ticket.lab_id == lab.id and "钱九" in ticket.title and ticket.title_en
    again = client.post(f"/api/labs/{lab.id}/roster/findings", json=body)
    assert again.status_code == 200 and again.get_json()["ticket_id"] == finding["ticket_id"]
    assert _tickets() == 1
    # Someone not on the roster at all.
    resp = client.post(f"/api/labs/{lab.id}/roster/findings",
                       json={"client_uuid": str(uuid.uuid4()), "name": "陌生人", "staff_no": "Z9"})
    assert resp.status_code == 201 and resp.get_json()["reason"] == "not_listed"
    # Someone whose access is valid: no finding, a clear 409.
    url = f"/api/labs/{lab.id}/roster/findings"
    resp = client.post(url, json={"client_uuid": str(uuid.uuid4()), "entry_id": valid.id})
    assert resp.status_code == 409
    assert client.post(f"/api/labs/{lab.id}/roster/findings", json={"client_uuid": "nope"}).status_code == 400
    assert client.post(url, json={"client_uuid": str(uuid.uuid4())}).status_code == 400
    assert _tickets() == 2
    assert db.session.scalar(select(func.count()).select_from(RosterFinding)) == 2


def test_a_lab_officer_cannot_record_findings(app, client):
    lab = make_lab()
    login(client, make_user(Role.lab_officer, lab=lab))
    resp = client.post(f"/api/labs/{lab.id}/roster/findings", json={"client_uuid": str(uuid.uuid4()), "name": "x"})
    assert resp.status_code == 403

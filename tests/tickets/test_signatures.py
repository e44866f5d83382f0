"""The notice's reply slip signed on a ticket (issue 23; art. 28): the lab's officer with the fix, the reviewer
with its verification; a drawn PNG or a refusal with its reason; optional; stored with the event, once
(client_uuid), and never changed or deleted (art. 30)."""
from __future__ import annotations

import uuid as uuidlib

import pytest
from flask import current_app
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.photos.signatures import SIGNATURE_DATA_URL_MAX
from app.tickets import lifecycle
from app.tickets.guards import TicketDeletionRefused
from app.tickets.models import TicketSignature, TicketSignatureRole
from app.tickets.signatures import signatures_by_ticket
from tests.factories import login, make_photo_row, make_ticket
from tests.factories.inspections import signature_data_url
from tests.factories.ticket_signatures import refused, signed


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages read in English here


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def act(client, ticket_id, **body):
    return client.post(f"/api/tickets/{ticket_id}/actions", json=body)


def fixing(w):
    t = make_ticket(w.lab)
    lifecycle.perform_action(w.officer, t.id, "start_fix", config=current_app.config)
    return t


def stored(ticket_id=None) -> int:
    q = select(func.count()).select_from(TicketSignature)
    return db.session.scalar(q.where(TicketSignature.ticket_id == ticket_id) if ticket_id else q)


def submitted(client, w, signature=None, **extra):
    t = fixing(w)
    photo = make_photo_row(w.officer)
    login(client, w.officer)
    body = {"action": "submit_fix", "note": "加装了防倾倒链", "photos": [photo.uuid], "version": 2,
            "client_uuid": new_uuid(), **extra}
    if signature is not None:
        body["signature"] = signature
    return t, body, act(client, t.id, **body)


def test_the_officer_signs_with_the_fix_and_the_reviewer_with_the_verification(client, w):
    t, _body, r = submitted(client, w, signed("张整改"))
    assert r.status_code == 200, r.get_json()
    sig = r.get_json()["events"][-1]["signature"]
    assert sig["role"] == "rectifier" and sig["name"] == "张整改" and not sig["refused"]
    assert sig["signed_at"] == "2026-10-20T08:00:00Z"
    client.post("/api/logout")
    login(client, w.leader)
    r = act(client, t.id, action="verify", note="现场复查合格", version=3, signature=signed("王院长", seed=5))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["events"][-1]["signature"]["role"] == "verifier"
    [rectifier, verifier] = signatures_by_ticket([t.id])[t.id]
    assert rectifier.role == TicketSignatureRole.rectifier and rectifier.png.startswith(b"\x89PNG")
    assert verifier.role == TicketSignatureRole.verifier and verifier.event.kind == "verify"
    # The web page shows who signed in the history.
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "王院长" in page and 'data-role="verifier"' in page


def test_signing_is_optional(client, w):
    t, _body, r = submitted(client, w)
    assert r.status_code == 200 and r.get_json()["events"][-1]["signature"] is None
    assert stored(t.id) == 0


def test_a_refusal_carries_its_reason_and_no_image(client, w):
    t, _body, r = submitted(client, w, refused("情况说明另附"))
    assert r.status_code == 200, r.get_json()
    [row] = signatures_by_ticket([t.id])[t.id]
    assert row.refused and row.reason == "情况说明另附" and row.png is None


@pytest.mark.parametrize("signature, needle", [
    ({"refused": True, "reason": "  "}, "reason"),
    ({"name": "张整改"}, "image"),
    ({"name": "", "image": signature_data_url()}, "name"),
    ({"name": "张", "image": "data:image/jpeg;base64,AAAA"}, "PNG"),
    ({"name": "张", "image": "data:image/png;base64,not*base64"}, "base64"),
    ({"name": "张", "image": "data:image/png;base64,aGVsbG8="}, "readable"),
    ({"name": "张", "image": "data:image/png;base64," + "A" * SIGNATURE_DATA_URL_MAX}, "image"),
])
def test_a_bad_signature_is_a_clear_400_and_nothing_is_written(client, w, signature, needle):
    t, _body, r = submitted(client, w, signature)
    assert r.status_code == 400, r.get_json()
    assert needle.lower() in str(r.get_json()).lower(), r.get_json()
    assert stored() == 0
    db.session.expire_all()
    assert lifecycle.get_ticket(t.id).state.value == "fixing"


def test_an_oversize_body_is_a_clear_413(client, w):
    t = fixing(w)
    login(client, w.officer)
    r = act(client, t.id, action="submit_fix", note="x", photos=[],
            signature={"name": "张", "image": "data:image/png;base64," + "A" * (2 * SIGNATURE_DATA_URL_MAX)})
    assert r.status_code == 413 and r.get_json()["error"]["message"]
    assert stored() == 0


def test_only_the_fix_and_its_verification_are_signed(client, w):
    t = make_ticket(w.lab)
    login(client, w.officer)
    r = act(client, t.id, action="start_fix", signature=signed())
    assert r.status_code == 400 and "signed" in r.get_json()["error"]["message"]
    assert stored() == 0


def test_a_replay_stores_the_signature_once(client, w):
    t, body, r = submitted(client, w, signed())
    assert r.status_code == 200
    again = act(client, t.id, **body)
    assert again.status_code == 200 and stored(t.id) == 1


def test_the_web_form_signs_and_refuses(client, w):
    t = fixing(w)
    login(client, w.officer)
    photo = make_photo_row(w.officer)
    r = client.post(f"/tickets/{t.id}/actions", data={
        "action": "submit_fix", "note": "已整改", "photos": photo.uuid, "version": "2", "client_uuid": new_uuid(),
        "signature_name": "张整改", "signature_image": signature_data_url(),
        "signature_signed_at": "2026-10-20T08:00:00Z"})
    assert r.status_code == 303
    assert stored(t.id) == 1
    client.post("/api/logout")
    login(client, w.leader)
    # A refusal without its reason is refused, with the reason to give; nothing moves.
    r = client.post(f"/tickets/{t.id}/actions", data={
        "action": "verify", "note": "合格", "version": "3", "client_uuid": new_uuid(), "signature_refused": "1",
        "signature_reason": ""}, follow_redirects=True)
    assert "refusal to sign needs a reason" in r.get_data(as_text=True)
    assert stored(t.id) == 1
    r = client.post(f"/tickets/{t.id}/actions", data={
        "action": "verify", "note": "合格", "version": "3", "client_uuid": new_uuid(), "signature_refused": "1",
        "signature_reason": "委托他人签字"})
    assert r.status_code == 303 and stored(t.id) == 2
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "委托他人签字" in page


def test_the_ticket_page_offers_the_signature_box(client, w):
    t = fixing(w)
    login(client, w.officer)
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert 'name="signature_image"' in page and "ticket_signature.js" in page


def _rewrite(row):
    row.name = "别人"
    db.session.flush()


def _in_the_database(statement: str):
    with db.engine.begin() as conn:
        conn.execute(text(statement))


def test_signatures_are_never_changed_or_deleted(client, w):
    t, _body, _r = submitted(client, w, signed())
    [row] = signatures_by_ticket([t.id])[t.id]
    # The ORM refuses before anything is sent; the database's triggers refuse whatever the client.
    for attempt, refused_as in (
            (lambda: _rewrite(row), TicketDeletionRefused),
            (lambda: db.session.execute(delete(TicketSignature)), TicketDeletionRefused),
            (lambda: db.session.execute(update(TicketSignature).values(name="x")), TicketDeletionRefused),
            (lambda: _in_the_database("UPDATE ticket_signatures SET name = 'x'"), DBAPIError),
            (lambda: _in_the_database("DELETE FROM ticket_signatures"), DBAPIError)):
        with pytest.raises(refused_as):
            attempt()
        db.session.rollback()
    assert stored(t.id) == 1

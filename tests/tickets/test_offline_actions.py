"""Ticket work on one bar of signal: a fix reported before its after-photos arrive (found by UUID when
they do), and actions sent again by the phone's outbox applied once (client_uuid)."""
from __future__ import annotations

import io
import uuid as uuidlib

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.tickets import lifecycle
from app.tickets.models import TicketEvent
from tests.factories import login, make_photo_row, make_ticket, photo_bytes


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def act(client, ticket_id, **body):
    return client.post(f"/api/tickets/{ticket_id}/actions", json=body)


def put(client, photo_uuid, data):
    return client.put(f"/api/photos/{photo_uuid}", data={"file": (io.BytesIO(data), "p.jpg")},
                      content_type="multipart/form-data")


def fixing(w):
    t = make_ticket(w.lab)
    lifecycle.perform_action(w.officer, t.id, "start_fix", config=current_app.config)
    return t


def n_events(ticket_id, kind=None) -> int:
    q = select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if kind:
        q = q.where(TicketEvent.kind == kind)
    return db.session.scalar(q)


def test_a_fix_is_reported_before_its_photo_and_the_photo_attaches_when_it_arrives(client, w):
    t = fixing(w)
    later = new_uuid()
    login(client, w.officer)
    r = act(client, t.id, action="submit_fix", note="cabinet installed", photos=[later.upper()], version=2)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "fix_submitted"
    submit = body["events"][-1]
    assert submit["photos"] == [{"uuid": later, "arrived": False, "thumb_url": None, "display_url": None}]
    # Nobody else may fill the fixer's UUID: the event already waits for the fixer's photo.
    client.post("/api/logout")
    login(client, w.officer2)
    assert put(client, later, photo_bytes(seed=5)).status_code == 403
    client.post("/api/logout")
    login(client, w.officer)
    assert put(client, later, photo_bytes(seed=6)).status_code == 201
    # The photo arrived: the event shows it, to the reviewer too (its lab's reader).
    client.post("/api/logout")
    login(client, w.leader)
    photo = client.get(f"/api/tickets/{t.id}").get_json()["events"][-1]["photos"][0]
    assert photo == {"uuid": later, "arrived": True, "thumb_url": f"/photos/{later}/thumb",
                     "display_url": f"/photos/{later}/display"}
    assert client.get(photo["thumb_url"]).status_code == 200


def test_a_stored_photo_of_someone_else_is_still_refused(client, w):
    t = fixing(w)
    theirs = make_photo_row(w.officer2)
    login(client, w.officer)
    r = act(client, t.id, action="submit_fix", note="done", photos=[theirs.uuid])
    assert r.status_code == 400
    assert r.get_json()["error"]["details"]["foreign_photos"] == [theirs.uuid]
    assert act(client, t.id, action="submit_fix", note="done", photos=["nope"]).status_code == 400
    assert n_events(t.id, "submit_fix") == 0


def test_a_uuid_another_users_event_waits_for_cannot_be_borrowed(client, w):
    t, other = fixing(w), fixing(w)
    pending = new_uuid()
    login(client, w.officer)
    assert act(client, t.id, action="submit_fix", note="done", photos=[pending]).status_code == 200
    client.post("/api/logout")
    login(client, w.officer2)
    r = act(client, other.id, action="submit_fix", note="done", photos=[pending])
    assert r.status_code == 400 and r.get_json()["error"]["details"]["foreign_photos"] == [pending]


def test_a_replay_answers_the_ticket_as_it_is_and_does_nothing(client, w):
    t = fixing(w)
    key, photo = new_uuid(), new_uuid()
    login(client, w.officer)
    body = {"action": "submit_fix", "note": "done", "photos": [photo], "version": 2, "client_uuid": key}
    first = act(client, t.id, **body)
    assert first.status_code == 200
    again = act(client, t.id, **body)  # the answer was lost on the way; the phone sends it again
    assert again.status_code == 200
    assert again.get_json()["version"] == first.get_json()["version"] == 3  # the stale version is no 409
    assert n_events(t.id, "submit_fix") == 1
    assert db.session.scalar(select(TicketEvent.client_uuid).where(TicketEvent.kind == "submit_fix")) == key


def test_a_client_uuid_used_for_another_ticket_action_or_user_is_a_conflict(client, w):
    t, other = fixing(w), fixing(w)
    key = new_uuid()
    login(client, w.officer)
    assert act(client, t.id, action="escalate", note="too big", client_uuid=key).status_code == 403  # not theirs
    assert act(client, t.id, action="submit_fix", note="done", photos=[new_uuid()], client_uuid=key).status_code == 200
    for ticket_id, action in ((other.id, "submit_fix"), (t.id, "escalate")):
        r = act(client, ticket_id, action=action, note="x", photos=[new_uuid()], client_uuid=key)
        assert r.status_code == 409, r.get_json()
        assert "client_uuid" in r.get_json()["error"]["message"]
    client.post("/api/logout")
    login(client, w.leader)
    r = act(client, t.id, action="verify", note="seen", client_uuid=key)
    assert r.status_code == 409 and r.get_json()["error"]["details"] == {"client_uuid": key}
    assert act(client, t.id, action="verify", note="bad", client_uuid="not-a-uuid").status_code == 400
    assert n_events(other.id) == 2 and n_events(t.id) == 3


def test_a_stale_version_without_a_known_client_uuid_is_still_a_conflict(client, w):
    t = fixing(w)
    login(client, w.officer)
    r = act(client, t.id, action="declare_cannot_fix", interim_measures="cordoned off", version=1,
            client_uuid=new_uuid())
    assert r.status_code == 409
    assert r.get_json()["error"]["details"] == {"state": "fixing", "version": 2}


@pytest.mark.parametrize("who,action,fields", [
    # The loser read the ticket after the winner moved it: the state refuses it.
    ("officer", "declare_cannot_fix", {"interim_measures": "tape"}),
    # Escalating is possible again: the loser's event hits the unique client_uuid.
    ("leader", "escalate", {"note": "too big for the lab"}),
])
def test_two_copies_racing_make_one_event_and_both_answer_the_ticket(app, w, monkeypatch, who, action, fields):
    """The loser of the race looked for its client_uuid before the winner committed: it is refused
    (by the state or by the unique client_uuid) and then answers as a replay."""
    t = fixing(w)
    key = new_uuid()
    user = getattr(w, who)
    lifecycle.perform_action(user, t.id, action, config=app.config, client_uuid=key, **fields)
    before = n_events(t.id)
    real = lifecycle._replay
    calls = []

    def blind_first(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(lifecycle, "_replay", blind_first)
    again = lifecycle.perform_action(user, t.id, action, config=app.config, client_uuid=key, **fields)
    assert len(calls) == 2 and again.id == t.id
    assert n_events(t.id) == before


def test_the_ticket_page_shows_evidence_arriving_instead_of_a_broken_image(client, w):
    t = fixing(w)
    later = new_uuid()
    lifecycle.perform_action(w.officer, t.id, "submit_fix", config=current_app.config, note="done", photos=[later])
    login(client, w.leader)
    page = client.get(f"/tickets/{t.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert f'data-photo="{later}"' in page and "证据上传中" in page
    assert f"/photos/{later}/thumb" not in page
    english = client.get(f"/tickets/{t.id}?lang=en").get_data(as_text=True)
    assert "Evidence arriving" in english


def test_the_detail_reads_photos_set_based_whatever_their_number(client, w):
    """Arrived or not, every event's photos come in one query: more events and photos, no more statements."""
    from sqlalchemy import event

    def statements(ticket_id) -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/api/tickets/{ticket_id}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    small, big = fixing(w), fixing(w)
    lifecycle.perform_action(w.officer, small.id, "submit_fix", config=current_app.config, note="x",
                             photos=[new_uuid()])
    for _ in range(3):
        lifecycle.perform_action(w.officer, big.id, "submit_fix", config=current_app.config, note="x",
                                 photos=[new_uuid(), make_photo_row(w.officer).uuid, new_uuid()])
        lifecycle.perform_action(w.leader, big.id, "reject", config=current_app.config, note="again")
    login(client, w.leader)
    statements(small.id)  # warm: the session's user and lookups
    assert statements(big.id) == statements(small.id)

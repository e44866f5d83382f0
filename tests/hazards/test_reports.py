"""Hazard reports (issue 24, art. 30): reported from the door, triaged into a ticket or closed with a
reason, the reporter told each time; replays record nothing twice; reports are never deleted."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, select, text

from app.extensions import db
from app.hazards.models import HazardReport, HazardReportDeletionRefused, HazardReportEvent
from app.notifications.models import Notification
from app.tickets.models import RectificationTicket
from tests.factories import login, photo_bytes


def report(client, lab, text="实验台上的电源插座烧焦了", photos=(), client_uuid=None):
    return client.post("/api/hazard-reports", json={
        "lab_id": lab.id, "text": text, "photos": list(photos), "client_uuid": client_uuid or str(uuid.uuid4())})


def notices_of(user, kind):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.kind == kind)).all()


def test_a_report_becomes_a_ticket_linked_both_ways_and_the_reporter_is_told(app, client, w):
    login(client, w.reporter)
    resp = report(client, w.lab)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["state"] == "open" and body["mine"] is True and body["allowed_actions"] == []
    rid = body["id"]
    # The lab's officers and the college's leaders heard of it; another college did not.
    assert notices_of(w.officer, "hazard_reported") and notices_of(w.leader, "hazard_reported")
    assert not notices_of(w.other_leader, "hazard_reported")

    client.post("/api/logout")
    login(client, w.officer)
    assert client.get(f"/api/hazard-reports/{rid}").get_json()["allowed_actions"] == ["open_ticket", "close"]
    resp = client.post(f"/api/hazard-reports/{rid}/open-ticket", json={"article": "21", "severity": "general"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["state"] == "ticketed" and body["ticket_id"]
    ticket = db.session.get(RectificationTicket, body["ticket_id"])
    assert ticket.lab_id == w.lab.id and ticket.article == "21"
    assert f"#{rid}" in ticket.description  # the ticket names its report
    # The ticket's page links back to the report.
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert f'href="/hazards/{rid}"' in page
    # Handled once: a second try is a 409, nothing changes.
    assert client.post(f"/api/hazard-reports/{rid}/close", json={"reason": "重复"}).status_code == 409
    assert client.post(f"/api/hazard-reports/{rid}/open-ticket", json={}).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(RectificationTicket)) == 1

    client.post("/api/logout")
    login(client, w.reporter)
    assert [n.link for n in notices_of(w.reporter, "hazard_ticketed")] == [f"/hazards/{rid}"]
    mine = client.get("/api/hazard-reports?mine=1").get_json()
    assert [(r["id"], r["state"], r["ticket_id"]) for r in mine] == [(rid, "ticketed", ticket.id)]
    events = [e["what"] for e in client.get(f"/api/hazard-reports/{rid}").get_json()["events"]]
    assert events == ["reported", "ticket_opened"]


def test_closing_needs_a_reason_and_the_reporter_is_told(client, w):
    login(client, w.reporter)
    rid = report(client, w.lab).get_json()["id"]
    client.post("/api/logout")
    login(client, w.leader)
    resp = client.post(f"/api/hazard-reports/{rid}/close", json={"reason": "  "})
    assert resp.status_code == 400 and resp.get_json()["error"]["message"]
    resp = client.post(f"/api/hazard-reports/{rid}/close", json={"reason": "不是隐患：插座已于昨日更换"})
    assert resp.status_code == 200
    assert resp.get_json()["state"] == "closed" and resp.get_json()["close_reason"].startswith("不是隐患")
    told = notices_of(w.reporter, "hazard_closed")
    assert len(told) == 1 and told[0].body == "不是隐患：插座已于昨日更换"
    # Through the page too: the report page shows the outcome to its reporter.
    client.post("/api/logout")
    login(client, w.reporter)
    assert "插座已于昨日更换" in client.get(f"/hazards/{rid}").get_data(as_text=True)


def test_a_replay_records_nothing_twice(client, w):
    login(client, w.reporter)
    same = str(uuid.uuid4())
    first = report(client, w.lab, client_uuid=same)
    again = report(client, w.lab, client_uuid=same)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert db.session.scalar(select(func.count()).select_from(HazardReport)) == 1
    assert db.session.scalar(select(func.count()).select_from(HazardReportEvent)) == 1
    assert len(notices_of(w.officer, "hazard_reported")) == 1
    # Someone else's UUID is not theirs to replay.
    client.post("/api/logout")
    login(client, w.head)
    assert report(client, w.lab, client_uuid=same).status_code == 409


def test_bad_input_is_a_clear_400(client, w, app):
    login(client, w.reporter)
    assert report(client, w.lab, text="").status_code == 400
    assert report(client, w.lab, text="x" * (app.config["HAZARD_TEXT_MAX"] + 1)).status_code == 400
    too_many = [str(uuid.uuid4()) for _ in range(app.config["HAZARD_MAX_PHOTOS"] + 1)]
    assert report(client, w.lab, photos=too_many).status_code == 400
    assert report(client, w.lab, client_uuid="not-a-uuid").status_code == 400
    assert client.post("/api/hazard-reports", json={"lab_id": 2**31 - 1, "text": "x",
                                                    "client_uuid": str(uuid.uuid4())}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(HazardReport)) == 0


def test_photos_through_the_pipeline_reach_the_labs_readers(client, w):
    login(client, w.reporter)
    photo = str(uuid.uuid4())
    rid = report(client, w.lab, photos=[photo]).get_json()["id"]  # report first, photo after
    up = client.put(f"/api/photos/{photo}", data={"file": (__import__("io").BytesIO(photo_bytes()), "p.jpg")},
                    content_type="multipart/form-data")
    assert up.status_code in (200, 201), up.get_json()
    client.post("/api/logout")
    login(client, w.officer)
    body = client.get(f"/api/hazard-reports/{rid}").get_json()
    assert body["photos"][0]["arrived"] is True
    assert client.get(f"/photos/{photo}/thumb").status_code == 200
    client.post("/api/logout")
    login(client, w.other_leader)
    assert client.get(f"/photos/{photo}/thumb").status_code == 403


def test_a_college_never_sees_another_colleges_reports(client, w):
    login(client, w.reporter)
    rid = report(client, w.lab).get_json()["id"]
    client.post("/api/logout")
    login(client, w.other_leader)
    assert client.get("/api/hazard-reports").get_json() == []
    assert client.get(f"/api/hazard-reports/{rid}").status_code == 403
    assert client.post(f"/api/hazard-reports/{rid}/close", json={"reason": "x"}).status_code == 403
    client.post("/api/logout")
    login(client, w.head)  # reads the college's reports, does not triage them
    assert [r["id"] for r in client.get("/api/hazard-reports").get_json()] == [rid]
    assert client.post(f"/api/hazard-reports/{rid}/close", json={"reason": "x"}).status_code == 403


def test_reports_are_never_deleted(app, w, is_postgres):
    from tests.factories.hazards import make_report

    r = make_report(w.lab, w.reporter)
    db.session.delete(r)
    with pytest.raises(HazardReportDeletionRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception, match="never deleted"):
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM hazard_reports"))
    with pytest.raises(HazardReportDeletionRefused):
        db.session.execute(delete(HazardReportEvent))

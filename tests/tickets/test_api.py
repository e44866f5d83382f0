"""The tickets API and pages (documented in /api/openapi.json)."""
from __future__ import annotations

import io
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.tickets import lifecycle
from app.tickets.models import RectificationTicket, TicketState
from tests.factories import login, make_photo_row, make_ticket, photo_bytes


def act(client, ticket_id, **body):
    return client.post(f"/api/tickets/{ticket_id}/actions", json=body)


def test_listing_is_scoped_and_filtered(client, w):
    mine = make_ticket(w.lab)
    major = make_ticket(w.lab, severity="major", article="16(2)")
    late = make_ticket(w.lab, deadline=datetime(2020, 1, 1))
    theirs = make_ticket(w.other_lab)
    login(client, w.leader)
    ids = [t["id"] for t in client.get("/api/tickets").get_json()]
    assert set(ids) == {mine.id, major.id, late.id}
    assert [t["id"] for t in client.get("/api/tickets?level=college").get_json()] == [major.id]
    assert [t["id"] for t in client.get("/api/tickets?overdue=1").get_json()] == [late.id]
    assert client.get("/api/tickets?state=fixing").get_json() == []
    assert client.get("/api/tickets?state=nonsense").status_code == 400
    assert client.get(f"/api/tickets?lab_id={w.other_lab.id}").get_json() == []
    body = client.get(f"/api/labs/{w.lab.id}/tickets").get_json()
    assert {t["id"] for t in body} == {mine.id, major.id, late.id}
    assert body[0]["deadline"].endswith("Z") and "version" in body[0]
    assert client.get(f"/api/labs/{w.other_lab.id}/tickets").status_code == 403
    assert client.get(f"/api/tickets/{theirs.id}").status_code == 403


def test_department_officers_see_their_remit_school_wide(client, w):
    fire = make_ticket(w.other_lab, article="23", title="灭火器过期")  # art. 23 -> security
    power = make_ticket(w.lab, article="21", title="插线板串接")  # art. 21 -> assets
    food = make_ticket(w.lab, article="24(6)", title="实验室内饮食")  # -> lab management
    assert {t.id: t.department_id for t in (fire, power, food)} == {
        fire.id: w.security.id, power.id: w.assets.id, food.id: w.lab_mgmt.id}
    for officer, expected, code in ((w.dept_security, fire, "security"), (w.dept_assets, power, "assets"),
                                    (w.dept_lab_mgmt, food, "lab_management")):
        client.post("/api/logout")
        login(client, officer)
        assert [t["id"] for t in client.get("/api/tickets").get_json()] == [expected.id]
        assert client.get(f"/api/tickets/{expected.id}").get_json()["department"]["code"] == code


def test_detail_has_events_and_allowed_actions(client, w):
    t = make_ticket(w.lab, actor=w.inspector, description="饭盒放在通风橱里")
    login(client, w.officer)
    body = client.get(f"/api/tickets/{t.id}").get_json()
    assert body["allowed_actions"] == ["start_fix", "declare_cannot_fix"]
    assert body["events"][0]["kind"] == "created" and body["events"][0]["actor"]["id"] == w.inspector.id
    assert body["events"][0]["note"] == "饭盒放在通风橱里"
    resp = act(client, t.id, action="start_fix", version=body["version"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "fixing" and resp.get_json()["allowed_actions"] == [
        "submit_fix",
        "declare_cannot_fix",
    ]


def test_the_whole_flow_over_the_api_with_its_refusals(client, w):
    t = make_ticket(w.lab)
    photo = make_photo_row(w.officer)
    login(client, w.officer)
    assert act(client, t.id, action="verify", note="x").status_code == 403
    assert act(client, t.id, action="submit_fix", note="x", photos=[photo.uuid]).status_code == 409  # still open
    assert act(client, t.id, action="start_fix").status_code == 200
    resp = act(client, t.id, action="submit_fix", note="fixed")
    assert resp.status_code == 400 and resp.get_json()["error"]["details"]["fields"]["photos"]
    resp = act(client, t.id, action="submit_fix", note="fixed", photos=[photo.uuid], version=1)
    assert resp.status_code == 409 and resp.get_json()["error"]["details"]["state"] == "fixing"
    resp = act(client, t.id, action="submit_fix", note="fixed", photos=[photo.uuid], version=2)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["events"][-1]["photos"][0]["thumb_url"] == f"/photos/{photo.uuid}/thumb"
    client.post("/api/logout")
    login(client, w.leader)
    resp = act(client, t.id, action="reject", note="")
    assert resp.status_code == 400
    resp = act(client, t.id, action="verify", note="seen it", version=body["version"])
    assert resp.status_code == 200 and resp.get_json()["state"] == "closed"
    resp = act(client, t.id, action="verify", note="again")
    assert resp.status_code == 409


def test_self_verification_is_a_clear_403(client, w):
    from app.auth.services import grant_role

    grant_role(w.leader, "lab_officer", lab_id=w.lab.id)
    db.session.commit()
    t = make_ticket(w.lab)
    login(client, w.leader)
    act(client, t.id, action="start_fix")
    act(client, t.id, action="submit_fix", note="done", photos=[make_photo_row(w.leader).uuid])
    resp = act(client, t.id, action="verify", note="ok")
    assert resp.status_code == 403
    assert "cannot verify" in resp.get_json()["error"]["message"] or "不能" in resp.get_json()["error"]["message"]


def test_bad_action_body(client, w):
    t = make_ticket(w.lab)
    login(client, w.officer)
    assert act(client, t.id, action="delete").status_code == 400
    assert client.post(f"/api/tickets/{t.id}/actions", json={}).status_code == 400
    assert act(client, 999999, action="start_fix").status_code == 404


def test_openapi_documents_the_ticket_routes(client):
    spec = client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/tickets/{ticket_id}/actions"]["post"]
    assert {"200", "400", "403", "409"} <= set(op["responses"])
    assert "/api/labs/{lab_id}/tickets" in spec["paths"]
    assert "/api/notifications/{notification_id}/read" in spec["paths"]


# ---- pages --------------------------------------------------------------------------------

def test_college_leader_pages(client, w):
    t = make_ticket(w.lab, title="通道堵塞", deadline=datetime(2020, 1, 1))
    make_ticket(w.other_lab, title="别的学院")
    login(client, w.leader)
    page = client.get("/tickets?overdue=1").get_data(as_text=True)
    assert "通道堵塞" in page and "别的学院" not in page
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert 'value="escalate"' in page and 'value="verify"' not in page
    resp = client.post(f"/tickets/{t.id}/actions", data={"action": "escalate", "note": "overdue", "version": t.version})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(RectificationTicket, t.id).level.value == "college"
    # A refused form says why on the page rather than failing.
    resp = client.post(f"/tickets/{t.id}/actions", data={"action": "escalate", "note": "", "version": 99})
    assert resp.status_code == 303


def test_lab_officer_submits_a_fix_with_a_photo_from_the_form(client, w):
    t = make_ticket(w.lab)
    lifecycle.perform_action(w.officer, t.id, "start_fix", config=current_app.config)
    login(client, w.officer)
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert 'name="photo_files"' in page and 'enctype="multipart/form-data"' in page
    resp = client.post(
        f"/tickets/{t.id}/actions",
        data={"action": "submit_fix", "note": "换了新的", "version": str(t.version),
              "photo_files": (io.BytesIO(photo_bytes()), "after.jpg")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    db.session.expire_all()
    ticket = db.session.get(RectificationTicket, t.id)
    assert ticket.state == TicketState.fix_submitted
    detail = client.get(f"/api/tickets/{t.id}").get_json()
    uuid = detail["events"][-1]["photos"][0]["uuid"]
    assert client.get(f"/photos/{uuid}/thumb").status_code == 200
    client.post("/api/logout")
    login(client, w.leader)
    assert client.get(f"/photos/{uuid}/thumb").status_code == 200  # the reviewer sees the proof


def test_a_form_sent_twice_is_one_fix_with_one_photo(client, w):
    """A double tap or a browser re-sending the form: the page's client_uuid makes it one action."""
    from app.photos.models import Photo
    from app.tickets.models import TicketEvent

    t = make_ticket(w.lab)
    lifecycle.perform_action(w.officer, t.id, "start_fix", config=current_app.config)
    login(client, w.officer)
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    client_uuid = page.split('name="client_uuid" value="', 1)[1].split('"', 1)[0]
    events = db.session.scalar(select(func.count()).select_from(TicketEvent))
    for _ in range(2):
        resp = client.post(
            f"/tickets/{t.id}/actions",
            data={"action": "submit_fix", "note": "换了新的", "version": str(t.version), "client_uuid": client_uuid,
                  "photo_files": (io.BytesIO(photo_bytes()), "after.jpg")},
            content_type="multipart/form-data", follow_redirects=True,
        )
        assert resp.status_code == 200 and "已完成：" in resp.get_data(as_text=True)  # the replay says done too
    assert db.session.scalar(select(func.count()).select_from(TicketEvent)) == events + 1
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1


def test_a_refused_form_with_a_photo_stores_no_photo(client, w):
    from app.photos.models import Photo

    t = make_ticket(w.lab)  # still open: submit_fix is not possible
    login(client, w.officer)
    resp = client.post(f"/tickets/{t.id}/actions",
                       data={"action": "submit_fix", "note": "x", "photo_files": (io.BytesIO(photo_bytes()), "a.jpg")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    assert db.session.scalar(select(Photo.id)) is None


def test_missed_checks_page(client, w):
    from datetime import date

    from app.inspections.models import MissedDailyCheck

    db.session.add(MissedDailyCheck(lab_id=w.lab.id, day=date(2026, 10, 31)))
    db.session.commit()
    login(client, w.leader)
    assert "2026-10-31" in client.get(f"/labs/{w.lab.id}/missed-checks").get_data(as_text=True)
    assert client.get(f"/labs/{w.other_lab.id}/missed-checks").status_code == 403
    assert client.get(f"/api/labs/{w.lab.id}/missed-checks").get_json()[0]["day"] == "2026-10-31"
    assert client.get(f"/api/labs/{w.other_lab.id}/missed-checks").status_code == 403


def test_pages_speak_chinese_by_default(client, w):
    t = make_ticket(w.lab)
    login(client, w.leader)
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "处理记录" in page and "升级理由" in page
    resp = act(client, t.id, action="escalate", note="", version=t.version)
    assert resp.get_json()["error"]["message"] == "请填写升级理由。"


def test_the_lab_page_shows_open_tickets_and_the_missed_check_link(client, w):
    t = make_ticket(w.lab, title="插线板串接使用", article="21")
    login(client, w.leader)
    page = client.get(f"/labs/{w.lab.id}").get_data(as_text=True)
    assert "插线板串接使用" in page and f"/labs/{w.lab.id}/missed-checks" in page and f"/tickets/{t.id}" in page

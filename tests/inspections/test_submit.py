"""POST /api/inspections: validation, idempotency by UUID, tickets, photos in either order."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.inspections.models import AnswerPhoto, Inspection, InspectionAnswer
from app.tickets.models import RectificationTicket, TicketEvent
from tests.factories import login, photo_bytes
from tests.factories.inspections import applicable_items, inspection_payload, iso, make_small_world, new_uuid


@pytest.fixture
def w(app):
    return make_small_world()


def counts():
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count(m.id)))
        for m in (Inspection, InspectionAnswer, AnswerPhoto, RectificationTicket, TicketEvent)
    )


def photo_item(w):
    return [i for i in w.full.items if i.photo_required][0]


def plain_items(w):
    return [i for i in applicable_items(w.full, w.lab_a) if not i.photo_required]


def put(client, uuid, data):
    return client.put(f"/api/photos/{uuid}", data={"file": (io.BytesIO(data), "p.jpg")},
                      content_type="multipart/form-data")


def test_submit_three_times_is_stored_once_with_its_tickets_once(client, w):
    login(client, w.inspector_a)
    a, b = plain_items(w)[:2]
    payload = inspection_payload(w.lab_a, w.full, results={a.id: "fail", b.id: "na"}, notes={a.id: "灭火器过期"},
                                 note="月查")
    first = client.post("/api/inspections", json=payload)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["complete"] is True and body["missing_photos"] == []
    assert len(body["ticket_ids"]) == 1 and body["url"] == f"/inspections/{body['id']}"
    stored = counts()
    for _ in range(2):
        again = client.post("/api/inspections", json=payload)
        assert again.status_code == 200 and again.get_json() == body
    assert counts() == stored
    assert stored[:4] == (1, len(applicable_items(w.full, w.lab_a)), 0, 1)

    ticket = db.session.get(RectificationTicket, body["ticket_ids"][0])
    assert ticket.lab_id == w.lab_a.id and ticket.article == a.article and ticket.item_id == a.id
    assert ticket.severity == a.severity and ticket.description == "灭火器过期"
    inspection = db.session.get(Inspection, body["id"])
    assert inspection.inspector_id == w.inspector_a.id and inspection.note == "月查"
    assert inspection.received_at is not None


def test_replay_with_answers_reordered_and_another_offset_is_the_same(client, w):
    login(client, w.inspector_a)
    payload = inspection_payload(w.lab_a, w.full)
    assert client.post("/api/inspections", json=payload).status_code == 201
    again = dict(payload, answers=list(reversed(payload["answers"])))
    finished = datetime.fromisoformat(payload["finished_at"].replace("Z", "+00:00"))
    again["finished_at"] = finished.astimezone(timezone(timedelta(hours=8))).isoformat()
    assert client.post("/api/inspections", json=again).status_code == 200


def test_same_uuid_different_content_is_409_and_keeps_the_first(client, w):
    login(client, w.inspector_a)
    payload = inspection_payload(w.lab_a, w.full)
    first = client.post("/api/inspections", json=payload).get_json()
    stored = counts()
    changed = dict(payload, answers=[dict(a) for a in payload["answers"]])
    changed["answers"][0]["result"] = "na"
    r = client.post("/api/inspections", json=changed)
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "conflict" and "UUID" in err["message"] and err["details"]["id"] == first["id"]
    assert counts() == stored


def test_same_uuid_from_another_user_is_409(app, w):
    c1, c2 = app.test_client(), app.test_client()
    login(c1, w.inspector_a)
    login(c2, w.leader_a)
    payload = inspection_payload(w.lab_a, w.full)
    first = c1.post("/api/inspections", json=payload).get_json()
    stored = counts()
    changed = dict(payload, answers=[dict(a) for a in payload["answers"]])
    changed["answers"][0]["result"] = "na"
    # Same content or not, the answer is the same and reveals nothing of the other inspection.
    answers = [c2.post("/api/inspections", json=p) for p in (payload, changed)]
    assert [r.status_code for r in answers] == [409, 409]
    bodies = [r.get_json()["error"] for r in answers]
    assert bodies[0] == bodies[1]
    assert bodies[0]["code"] == "conflict" and bodies[0]["details"] == {"uuid": payload["uuid"]}
    assert all(str(first["id"]) not in r.get_data(as_text=True).replace(payload["uuid"], "") for r in answers)
    assert "different content" not in bodies[0]["message"] and "内容不同" not in bodies[0]["message"]
    assert counts() == stored


def test_concurrent_duplicate_settles_on_the_unique_uuid(app, client, w, monkeypatch):
    """Two identical submits racing: the second misses the first in its look-up, hits the unique
    constraint on insert, rolls back and answers as a replay."""
    login(client, w.inspector_a)
    a = plain_items(w)[0]
    payload = inspection_payload(w.lab_a, w.full, results={a.id: "fail"})
    first = client.post("/api/inspections", json=payload).get_json()
    stored = counts()
    from app.inspections import services

    real = services._find_by_uuid
    calls = []

    def blind_once(uuid):
        calls.append(uuid)
        return None if len(calls) == 1 else real(uuid)

    monkeypatch.setattr(services, "_find_by_uuid", blind_once)
    r = client.post("/api/inspections", json=payload)
    assert r.status_code == 200 and r.get_json() == first and len(calls) == 2
    assert counts() == stored
    changed = dict(payload, note="other")
    calls.clear()
    assert client.post("/api/inspections", json=changed).status_code == 409
    assert counts() == stored


def test_failed_item_requiring_a_photo_without_one_is_refused_naming_it(client, w):
    login(client, w.inspector_a)
    item = photo_item(w)
    r = client.post("/api/inspections", json=inspection_payload(w.lab_a, w.full, results={item.id: "fail"}))
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert item.article in err["message"] and item.text in err["message"]
    assert counts() == (0, 0, 0, 0, 0)


def test_photos_first_then_inspection_is_complete(client, w):
    login(client, w.inspector_a)
    item = photo_item(w)
    uuids = [new_uuid(), new_uuid()]
    for n, u in enumerate(uuids):
        assert put(client, u, photo_bytes(seed=n + 1)).status_code == 201
    payload = inspection_payload(w.lab_a, w.full, results={item.id: "fail"}, photos={item.id: uuids})
    r = client.post("/api/inspections", json=payload)
    assert r.status_code == 201
    body = r.get_json()
    assert body["complete"] is True and body["missing_photos"] == [] and len(body["ticket_ids"]) == 1
    detail = client.get(f"/api/inspections/{body['id']}").get_json()
    assert detail["complete"] is True
    answer = [a for a in detail["answers"] if a["item_id"] == item.id][0]
    assert [p["uuid"] for p in answer["photos"]] == uuids and all(p["received"] for p in answer["photos"])
    assert answer["ticket_id"] == body["ticket_ids"][0]


def test_inspection_first_then_photos_becomes_complete(client, w):
    login(client, w.inspector_a)
    item = photo_item(w)
    uuids = [new_uuid(), new_uuid()]
    payload = inspection_payload(w.lab_a, w.full, results={item.id: "fail"}, photos={item.id: uuids})
    body = client.post("/api/inspections", json=payload).get_json()
    assert body["complete"] is False and body["missing_photos"] == uuids
    assert put(client, uuids[1], photo_bytes(seed=3)).status_code == 201
    detail = client.get(f"/api/inspections/{body['id']}").get_json()
    assert detail["complete"] is False and detail["missing_photos"] == [uuids[0]]
    assert put(client, uuids[0], photo_bytes(seed=4)).status_code == 201
    detail = client.get(f"/api/inspections/{body['id']}").get_json()
    assert detail["complete"] is True and detail["missing_photos"] == []
    # A replay of the submission now reports it complete too.
    assert client.post("/api/inspections", json=payload).get_json()["complete"] is True


def _bad(payload_fn):
    return payload_fn


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda p, w: p.update(answers=p["answers"][:-1]), "missing"),
        (lambda p, w: p["answers"].append(dict(p["answers"][0])), "twice"),
        (lambda p, w: p["answers"].append({"item_id": 999999, "result": "pass"}), "not part"),
        (lambda p, w: p["answers"].append(
            {"item_id": [i for i in w.full.items if "pathogens" in i.hazard_tags][0].id, "result": "pass"}),
         "does not apply"),
        (lambda p, w: p["answers"][0].update(result="maybe"), "invalid"),
        (lambda p, w: p.update(started_at=iso(datetime.now(UTC))), "before"),
        (lambda p, w: p.update(finished_at=iso(datetime.now(UTC) + timedelta(hours=1))), "future"),
        (lambda p, w: p.update(finished_at="2026-11-20T10:00:00"), "invalid"),  # no offset
        (lambda p, w: p.update(checklist_version_id=999999), "checklist version"),
        (lambda p, w: p.update(checklist_version_id=w.daily.id), "not used for this level"),
        (lambda p, w: p.update(lab_id=999999), "lab"),
        (lambda p, w: p.update(uuid="not-a-uuid"), "invalid"),
        (lambda p, w: p.update(answers=[]), "invalid"),
        (lambda p, w: p.update(lab_id=2**63), "invalid"),  # not an id; must not reach SQL
        (lambda p, w: p["answers"][0].update(item_id=2**40), "invalid"),
        (lambda p, w: p.update(note="a\x00b"), "nul"),  # PostgreSQL text cannot hold NUL
        (lambda p, w: p.update(started_at="0001-01-01T00:00:00+01:00"), "plausible"),
    ],
)
def test_invalid_submissions_are_refused_and_store_nothing(client, w, mutate, needle):
    login(client, w.inspector_a)
    payload = inspection_payload(w.lab_a, w.full)
    mutate(payload, w)
    r = client.post("/api/inspections?lang=en", json=payload)
    assert r.status_code == 400, r.get_json()
    assert needle in r.get_data(as_text=True).lower() or needle in str(r.get_json()).lower()
    assert counts() == (0, 0, 0, 0, 0)


def test_an_unpaired_surrogate_in_a_note_is_400_and_stores_nothing(client, w):
    # "\ud800" alone is no character: once it reached the payload hash (and the database) as a 500.
    import json

    login(client, w.inspector_a)
    payload = inspection_payload(w.lab_a, w.full)
    payload["answers"][0]["note"] = "PLACEHOLDER"
    body = json.dumps(payload).replace("PLACEHOLDER", "\\ud800")
    r = client.post("/api/inspections", data=body, content_type="application/json")
    assert r.status_code == 400, r.get_data(as_text=True)
    assert counts() == (0, 0, 0, 0, 0)


def test_not_json_is_400(client, w):
    login(client, w.inspector_a)
    r = client.post("/api/inspections", data="nope", content_type="text/plain")
    assert r.status_code == 400


@pytest.mark.parametrize(
    "user, lab, level, version, status",
    [
        ("officer_a", "lab_a", "daily", "daily", 201),  # art. 29
        ("officer_a", "lab_a", "college", "full", 403),
        ("officer_b", "lab_a", "daily", "daily", 403),
        ("inspector_a", "lab_a", "college", "full", 201),  # art. 28
        ("inspector_a", "lab_b", "college", "full", 403),  # another college
        ("inspector_a", "lab_a", "school", "full", 403),
        ("school_inspector", "lab_b", "school", "full", 201),  # art. 27
        ("admin", "lab_b", "college", "full", 201),
        ("head_a", "lab_a", "college", "full", 403),  # read-only oversight
        ("dept_officer", "lab_a", "college", "full", 403),
    ],
)
def test_who_may_record_which_level(app, w, user, lab, level, version, status):
    c = app.test_client()
    login(c, getattr(w, user))
    r = c.post("/api/inspections", json=inspection_payload(getattr(w, lab), getattr(w, version), level=level))
    assert r.status_code == status, r.get_json()


def test_older_checklist_version_is_accepted(client, w):
    """A phone offline while the list was updated still submits against the version it has."""
    from tests.factories.inspections import make_checklist_version

    login(client, w.inspector_a)
    newer = make_checklist_version("full")
    w.full.checklist.current_version = newer
    db.session.commit()
    r = client.post("/api/inspections", json=inspection_payload(w.lab_a, w.full))
    assert r.status_code == 201
    assert db.session.get(Inspection, r.get_json()["id"]).checklist_version_id == w.full.id


def test_photo_of_another_uploader_cannot_be_claimed(app, w):
    c1, c2 = app.test_client(), app.test_client()
    login(c1, w.leader_a)
    login(c2, w.inspector_a)
    uuid = new_uuid()
    assert put(c1, uuid, photo_bytes()).status_code == 201
    item = photo_item(w)
    r = c2.post("/api/inspections", json=inspection_payload(w.lab_a, w.full, results={item.id: "fail"},
                                                             photos={item.id: [uuid]}))
    assert r.status_code == 400 and counts()[0] == 0


def test_two_identical_submits_at_once_store_one(app, w):
    """Two phones' worth of the same outbox flushing at once: one inspection, one ticket; both
    answers name the same stored inspection."""
    import threading

    a = plain_items(w)[0]
    payload = inspection_payload(w.lab_a, w.full, results={a.id: "fail"})
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login(c, w.inspector_a)
    barrier = threading.Barrier(2)
    responses = [None, None]

    def send(n):
        barrier.wait()
        responses[n] = clients[n].post("/api/inspections", json=payload)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 201], [r.get_json() for r in responses]
    assert responses[0].get_json()["id"] == responses[1].get_json()["id"]
    assert counts()[0] == 1 and counts()[3] == 1


def test_the_new_inspection_s_answer_is_what_its_stored_state_says(client, w):
    """The 201 is built from what the submission knows (no read-back): it must equal the stored
    inspection's status and a replay's answer. Two failed items (tickets in id order); a photo
    uploaded before, two not yet, one of them named by both answers (listed once, in answer order)."""
    from app.inspections import services

    login(client, w.inspector_a)
    first, second = photo_item(w), plain_items(w)[0]
    here, later, shared = new_uuid(), new_uuid(), new_uuid()
    assert put(client, here, photo_bytes(seed=5)).status_code == 201
    payload = inspection_payload(w.lab_a, w.full, results={first.id: "fail", second.id: "fail"},
                                 photos={first.id: [shared, here], second.id: [later, shared]})
    r = client.post("/api/inspections", json=payload)
    assert r.status_code == 201
    body = r.get_json()
    db.session.expire_all()
    stored = services.inspection_status(db.session.get(Inspection, body["id"]))
    assert body["missing_photos"] == stored.missing_photos and body["ticket_ids"] == stored.ticket_ids
    assert set(body["missing_photos"]) == {shared, later} and len(body["ticket_ids"]) == 2
    assert body["complete"] is False
    again = client.post("/api/inspections", json=payload)
    assert again.status_code == 200 and again.get_json() == body


def test_photo_arriving_after_validation_is_not_reported_missing(client, w, monkeypatch):
    """A photo whose upload commits between the submit's validation and its commit (two phones, or
    a retried upload racing the submit) is not listed as missing in the 201."""
    from app.inspections import services

    login(client, w.inspector_a)
    item = photo_item(w)
    uuids = [new_uuid(), new_uuid()]
    assert put(client, uuids[0], photo_bytes(seed=5)).status_code == 201
    real_validate = services._validate

    def validate_before_the_upload_landed(*args, **kwargs):
        lab, version, items, _arrived = real_validate(*args, **kwargs)
        return lab, version, items, set()  # as read before uuids[0]'s upload committed

    monkeypatch.setattr(services, "_validate", validate_before_the_upload_landed)
    payload = inspection_payload(w.lab_a, w.full, results={item.id: "fail"}, photos={item.id: uuids})
    body = client.post("/api/inspections", json=payload).get_json()
    assert body["complete"] is False and body["missing_photos"] == [uuids[1]]
    detail = client.get(f"/api/inspections/{body['id']}").get_json()
    assert detail["missing_photos"] == body["missing_photos"]


@pytest.mark.parametrize("few_parameters", [False, True])
def test_answers_are_stored_as_sent_with_ids_in_checklist_order(client, w, monkeypatch, few_parameters):
    """The answers' INSERT (one statement: arrays through unnest on PostgreSQL, a prepared multi-row
    VALUES on SQLite, SQLAlchemy's batches past SQLite's parameter limit) stores every value as sent,
    text that means something in SQL or array syntax included, with ids following the items'
    positions whatever order the phone sent them in."""
    from tests.factories.inspections import make_checklist_version

    if few_parameters and db.engine.dialect.name == "sqlite":
        # Past the limit SQLite takes SQLAlchemy's batches. PostgreSQL's unnest has no such limit
        # (there the same answers go the same way once more).
        monkeypatch.setattr(db.engine.dialect, "insertmanyvalues_max_parameters", 9)

    notes = ["NULL", "{a,b}", 'say "hi"', "back\\slash", "", "换行\n第二行", " spaces ", "it's", "{,}", "\t"]
    version = make_checklist_version(items=[{"article": f"{n + 12}", "text": f"条目{n}"} for n in range(len(notes))])
    results = ["pass", "fail", "na", "pass", "na", "pass", "fail", "pass", "na", "pass"]
    items = version.items
    login(client, w.inspector_a)
    payload = inspection_payload(w.lab_a, version, results={i.id: r for i, r in zip(items, results, strict=True)},
                                 notes={i.id: n for i, n in zip(items, notes, strict=True)})
    payload["answers"].reverse()
    r = client.post("/api/inspections", json=payload)
    assert r.status_code == 201, r.get_json()
    rows = db.session.execute(
        select(InspectionAnswer.item_id, InspectionAnswer.position, InspectionAnswer.result, InspectionAnswer.note)
        .where(InspectionAnswer.inspection_id == r.get_json()["id"]).order_by(InspectionAnswer.id)
    ).all()
    assert [(a, p, res.value, n) for a, p, res, n in rows] == [
        (i.id, i.position, res, n) for i, res, n in zip(items, results, notes, strict=True)
    ]
    tickets = db.session.execute(
        select(RectificationTicket.item_id, RectificationTicket.description).order_by(RectificationTicket.id)
    ).all()
    assert [tuple(t) for t in tickets] == [(items[1].id, "{a,b}"), (items[6].id, " spaces ")]

"""Reading inspections: API detail and lab listing, the inspection page, the lab page sections."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.checklists.models import ChecklistItem
from app.extensions import db
from tests.factories import login, photo_bytes
from tests.factories.inspections import applicable_items, make_inspection, make_small_world


@pytest.fixture
def w(app):
    return make_small_world()


@pytest.fixture
def insp(app, w):
    inspection, photo = make_inspection(w.inspector_a, w.lab_a, w.full, fail_with_photo=photo_bytes(seed=9))
    return inspection, photo


def test_detail_shows_the_text_of_the_version_answered(client, w, insp):
    inspection, photo = insp
    # The item's text changes later (it would in a new version; items are immutable, but make
    # sure nothing reads the "current" list): the answer still shows what was asked.
    login(client, w.leader_a)
    body = client.get(f"/api/inspections/{inspection.id}").get_json()
    items = applicable_items(w.full, w.lab_a)
    assert [a["item_id"] for a in body["answers"]] == [i.id for i in items]
    first = body["answers"][0]
    assert first["article"] == items[0].article and first["text"] == items[0].text
    assert first["result"] == "fail" and first["ticket_id"] == body["ticket_ids"][0]
    assert first["photos"][0]["uuid"] == photo.uuid and first["photos"][0]["original_url"]
    assert body["counts"] == {"pass": len(items) - 1, "fail": 1, "na": 0}
    assert body["level"] == "college" and body["inspector"]["name"] == w.inspector_a.name


def test_original_links_only_for_evidence_roles(client, w, insp):
    inspection, _ = insp
    login(client, w.officer_a)
    body = client.get(f"/api/inspections/{inspection.id}").get_json()
    p = body["answers"][0]["photos"][0]
    assert p["thumb_url"] and p["display_url"] and p["original_url"] is None
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert p["thumb_url"] in page and "/original" not in page


def test_inspection_page_renders_answers_and_photos(client, w, insp):
    inspection, photo = insp
    login(client, w.leader_a)
    r = client.get(f"/inspections/{inspection.id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for item in applicable_items(w.full, w.lab_a):
        assert item.text in html
    assert f'href="/photos/{photo.uuid}/display"' in html and f'src="/photos/{photo.uuid}/thumb"' in html
    assert f"/photos/{photo.uuid}/original" in html
    assert "<script>" not in html


def test_lab_listing_recent_first(client, w):
    first, _ = make_inspection(w.inspector_a, w.lab_a, w.full)
    second, _ = make_inspection(w.officer_a, w.lab_a, w.daily, level="daily")
    make_inspection(w.admin, w.lab_b, w.full)
    login(client, w.officer_a)
    body = client.get(f"/api/labs/{w.lab_a.id}/inspections").get_json()
    assert [i["id"] for i in body] == [second.id, first.id]  # finished later, listed first
    assert all(i["lab_id"] == w.lab_a.id and i["complete"] for i in body)
    assert client.get(f"/api/labs/{w.lab_a.id}/inspections?limit=1").get_json()[0]["id"] == body[0]["id"]
    assert client.get(f"/api/labs/{w.lab_a.id}/inspections?limit=0").status_code == 400
    assert client.get("/api/labs/999999/inspections").status_code == 404


def test_lab_page_shows_inspections_and_open_tickets(client, w, insp):
    inspection, _ = insp
    login(client, w.officer_a)
    html = client.get(f"/labs/{w.lab_a.id}").get_data(as_text=True)
    assert f"/inspections/{inspection.id}" in html
    item = db.session.scalar(select(ChecklistItem).where(ChecklistItem.id == inspection.answers[0].item_id))
    assert item.text in html  # the open ticket's title


def test_out_of_scope_users_cannot_read(app, w, insp):
    inspection, photo = insp
    for user in (w.officer_b, w.inspector_b):
        c = app.test_client()
        login(c, user)
        assert c.get(f"/api/inspections/{inspection.id}").status_code == 403
        assert c.get(f"/inspections/{inspection.id}").status_code == 403
        assert c.get(f"/api/labs/{w.lab_a.id}/inspections").status_code == 403
        assert c.get(f"/photos/{photo.uuid}/thumb").status_code == 403
        html = c.get(f"/labs/{w.lab_b.id}").get_data(as_text=True)
        assert f"/inspections/{inspection.id}" not in html


def test_unknown_inspection_is_404(client, w):
    login(client, w.admin)
    assert client.get("/api/inspections/999999").status_code == 404
    assert client.get("/inspections/999999").status_code == 404


def test_openapi_documents_submission_and_upload(client):
    spec = client.get("/api/openapi.json").get_json()
    submit = spec["paths"]["/api/inspections"]["post"]
    assert {"200", "201", "400", "403", "409"} <= set(submit["responses"])
    assert "application/json" in submit["requestBody"]["content"]
    # The replay's 200 carries the same body as the 201, not the error shape.
    assert submit["responses"]["200"]["content"] == submit["responses"]["201"]["content"]
    upload = spec["paths"]["/api/photos/{photo_uuid}"]["put"]
    assert {"200", "201", "409", "413", "415"} <= set(upload["responses"])
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "/api/inspections/{inspection_id}" in spec["paths"]
    assert "/api/labs/{lab_id}/inspections" in spec["paths"]

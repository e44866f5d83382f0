"""The triage pages in both languages, the list's fixed number of statements, the ticket page's link back."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db
from app.hazards.models import HazardReport
from app.org.models import Lab
from tests.factories import login, make_lab
from tests.factories.hazards import make_report
from tests.pwa import statements_for


def test_triage_through_the_pages_in_chinese_and_english(client, w):
    r = make_report(w.lab, w.reporter, text="配电箱门敞开")
    login(client, w.officer)
    page = client.get(f"/hazards/{r.id}?lang=zh_CN").get_data(as_text=True)
    assert "隐患报告" in page and "开具整改单" in page and "配电箱门敞开" in page
    page = client.get(f"/hazards/{r.id}?lang=en").get_data(as_text=True)
    assert "Hazard report" in page and "Open a rectification ticket" in page
    listing = client.get("/hazards?lang=zh_CN")  # the base template's own variables do not shadow the list's
    assert listing.status_code == 200 and "配电箱门敞开" in listing.get_data(as_text=True)
    resp = client.post(f"/hazards/{r.id}/close", data={"reason": ""})  # the form refuses, says why
    assert resp.status_code == 302
    assert db.session.get(HazardReport, r.id).state.value == "open"
    resp = client.post(f"/hazards/{r.id}/open-ticket", data={"article": "21", "severity": "major", "title": "配电箱"})
    assert resp.status_code == 302
    db.session.expire_all()
    ticket_id = db.session.get(HazardReport, r.id).ticket_id
    assert ticket_id
    page = client.get(f"/tickets/{ticket_id}?lang=zh_CN").get_data(as_text=True)
    assert f'href="/hazards/{r.id}"' in page and "来源" in page
    # The reporter's lab page (the door QR's) carries the report form, though they may not see the lab's card.
    client.post("/api/logout")
    login(client, w.reporter)
    assert client.get(f"/app/labs/{w.lab.id}").status_code == 200
    assert client.get(f"/api/labs/{w.lab.id}/card").status_code == 403
    assert client.get(f"/l/{w.lab.qr_token}").headers["Location"].endswith(f"/app/labs/{w.lab.id}")


def test_the_list_is_one_statement_whatever_the_number_of_reports(app, client, w):
    login(client, w.leader)
    make_report(w.lab, w.reporter)
    few = statements_for(client, app, "/api/hazard-reports")
    labs = [make_lab(w.college) for _ in range(4)]
    for lab in labs:
        for _ in range(3):
            make_report(lab, w.reporter, client_uuid=str(uuid.uuid4()))
    assert len(client.get("/api/hazard-reports").get_json()) == 13
    assert statements_for(client, app, "/api/hazard-reports") == few
    assert db.session.scalar(select(Lab.id).where(Lab.id == labs[0].id))


def test_openapi_documents_the_hazard_report_routes(client):
    spec = client.get("/api/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/api/hazard-reports"])
    assert "get" in spec["paths"]["/api/hazard-reports/{report_id}"]
    one = "/api/hazard-reports/{report_id}"
    assert {"200", "403", "409"} <= set(spec["paths"][f"{one}/open-ticket"]["post"]["responses"])
    assert {"400", "403", "409"} <= set(spec["paths"][f"{one}/close"]["post"]["responses"])

"""The web pages (report form, an accident's page and its forms) and the reports as issued documents."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.accidents.models import Accident, AccidentState
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db
from tests.factories import login
from tests.factories.accidents import make_accident

from .helpers import world

UNIT = {"summary": "事故经过：试剂瓶破裂。", "causes": "操作不当", "measures": "加强培训"}


def _form(lab, **kw):
    return {"client_uuid": str(uuid.uuid4()), "lab_code": lab.code, "occurred_at": "2026-01-05T10:30",
            "place": "实验台", "description": "电源插座冒烟起火，已用灭火器扑灭", "deaths": "0",
            "serious_injuries": "0",
            "light_injuries": "0", "property_loss_yuan": "800", "environment": "none", "stability": "none",
            "first_measures": "切断电源", **kw}


def test_the_web_form_reports_once_and_says_why_it_refuses(app, client):
    w = world()
    login(client, w.inspector)
    assert client.get("/accidents/new").status_code == 200
    form = _form(w.lab)
    resp = client.post("/accidents/new", data=form)
    assert resp.status_code == 302
    a = db.session.scalar(select(Accident))
    assert a.proposed_grade.value == "IV" and a.occurred_at.hour == 2  # 10:30 school time is 02:30 UTC
    assert client.post("/accidents/new", data=form).status_code == 302  # a double submit: the same accident
    assert db.session.scalar(select(func.count()).select_from(Accident)) == 1
    bad = client.post("/accidents/new", data=_form(w.lab, description="", deaths="-3"))
    assert bad.status_code == 400 and "error-box" in bad.get_data(as_text=True)
    assert client.post("/accidents/new", data=_form(w.lab, lab_code="NOPE")).status_code == 404
    assert client.post("/accidents/new", data=_form(w.other_lab)).status_code == 403
    page = client.get(f"/accidents/{a.id}").get_data(as_text=True)
    assert "电源插座冒烟起火" in page and "IV" in page
    listing = client.get("/accidents").get_data(as_text=True)
    assert f"/accidents/{a.id}" in listing


def test_the_forms_on_an_accidents_page(app, client):
    w = world()
    a = make_accident(w.officer, w.lab)
    login(client, w.head)
    page = client.get(f"/accidents/{a.id}").get_data(as_text=True)
    assert "reports/unit" in page and f"/accidents/{a.id}/grade" not in page
    assert client.post(f"/accidents/{a.id}/reports/unit", data=UNIT).status_code == 302
    login(client, w.admin)
    refused = client.post(f"/accidents/{a.id}/grade", data={"grade": "I"})
    assert refused.status_code == 400 and "error-box" in refused.get_data(as_text=True)
    assert client.post(f"/accidents/{a.id}/grade", data={"grade": "IV", "reason": "轻伤已痊愈"}).status_code == 302
    assert client.post(f"/accidents/{a.id}/close", data={"note": "结案"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Accident, a.id).state == AccidentState.closed


def test_a_filed_report_is_issued_once_as_a_document(app, client):
    w = world()
    a = make_accident(w.officer, w.lab)
    login(client, w.leader)
    assert client.get(f"/accidents/{a.id}/reports/unit.pdf").status_code == 404  # not filed yet
    client.post(f"/api/accidents/{a.id}/reports/unit", json=UNIT)
    first = client.get(f"/accidents/{a.id}/reports/unit.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf" and first.data.startswith(b"%PDF")
    again = client.get(f"/accidents/{a.id}/reports/unit.pdf")
    assert again.headers["X-Document-SHA256"] == first.headers["X-Document-SHA256"]
    doc = db.session.scalar(select(IssuedDocument))
    assert (doc.kind, doc.accident_id, doc.lab_id) == (DocumentKind.accident_report, a.id, w.lab.id)
    assert "-SG-" in doc.number
    assert client.get(f"/documents/{doc.id}").status_code == 200
    login(client, w.other_leader)
    assert client.get(f"/documents/{doc.id}").status_code == 403
    assert client.get(f"/accidents/{a.id}/reports/unit.pdf").status_code == 403

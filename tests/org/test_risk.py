"""A lab's risk grade end to end: the assessment (API and page), its history (never deleted, art. 30),
the re-grade flag when the category or hazard tags change, who may assess, the list filter, OpenAPI."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.auth.models import Role
from app.extensions import db
from app.org import csv_import, services
from app.org.models import Lab, LabRiskAssessment, RiskHistoryRefused, RiskLevel
from tests.factories import login, make_college, make_lab, make_user

NOTHING = {"hazchem_amount": 0, "controlled_chemicals": False, "drug_precursors": False, "special_equipment": 0,
           "gas_cylinders": 0, "biosafety_level": "none", "radiation": "none", "laser_class": "none"}


@pytest.fixture
def world(app):
    college = make_college(code="CHEM", name="化学与材料工程学院")
    other = make_college(code="LIFE")
    lab = make_lab(college, category="physics", hazard_tags=["gas_cylinders"], code="CHEM-101")
    return {
        "college": college, "lab": lab, "other_lab": make_lab(other, category="general", code="LIFE-101"),
        "admin": make_user(Role.school_admin, name="管理员"),
        "leader": make_user(Role.college_leader, college=college, name="分管领导"),
        "other_leader": make_user(Role.college_leader, college=other),
        "officer": make_user(Role.lab_officer, lab=lab),
        "inspector": make_user(Role.inspector, college=college),
    }


def _assess(client, lab, answers, expect=201):
    resp = client.post(f"/api/labs/{lab.id}/risk-assessment", json={"answers": answers})
    assert resp.status_code == expect, resp.get_data(as_text=True)
    return resp.get_json()


def test_leader_assesses_through_the_api_and_every_assessment_is_kept(client, world):
    lab = world["lab"]
    login(client, world["leader"])
    first = _assess(client, lab, NOTHING | {"gas_cylinders": 2})
    assert (first["risk_level"], first["rule_id"]) == ("III", "iii-gas-cylinders")
    assert first["reason"] == "使用气瓶" and first["answers"]["gas_cylinders"] == 2
    assert first["category"] == "physics" and first["hazard_tags"] == ["gas_cylinders"]
    db.session.expire_all()
    lab = db.session.get(Lab, lab.id)
    assert lab.risk_level == RiskLevel.III and lab.risk_assessed_by_id == world["leader"].id
    assert lab.risk_assessed_at is not None and lab.risk_answers["gas_cylinders"] == 2 and not lab.risk_reassess

    second = _assess(client, lab, NOTHING | {"controlled_chemicals": True})
    assert (second["risk_level"], second["rule_id"]) == ("I", "i-controlled-chemicals")
    body = client.get(f"/api/labs/{lab.id}/risk").get_json()
    assert body["risk_level"] == "I" and body["cadence"] == "weekly"
    assert body["checklists"] == ["full", "hazchem", "fire"]
    assert [h["id"] for h in body["history"]] == [second["id"], first["id"]]  # latest first, none lost
    assert [q["id"] for q in body["questions"]][:2] == ["hazchem_amount", "controlled_chemicals"]
    assert client.get(f"/api/labs/{lab.id}").get_json()["risk_level"] == "I"


def test_bad_answers_are_a_clear_400_and_change_nothing(client, world):
    lab = world["lab"]
    login(client, world["admin"])
    err = _assess(client, lab, NOTHING | {"hazchem_amount": -3, "typo": 1}, expect=400)["error"]
    assert set(err["details"]["fields"]) == {"hazchem_amount", "typo"}
    assert _assess(client, lab, {}, expect=400)["error"]["details"]["fields"]["hazchem_amount"]
    resp = client.post(f"/api/labs/{lab.id}/risk-assessment", json={"answers": "I"})
    assert resp.status_code == 400
    assert client.post(f"/api/labs/{lab.id}/risk-assessment", json={}).status_code == 400
    assert client.post("/api/labs/999999/risk-assessment", json={"answers": NOTHING}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(LabRiskAssessment)) == 0
    assert db.session.get(Lab, lab.id).risk_level is None


def test_the_answers_are_translated_in_english(client, world):
    login(client, world["admin"])
    resp = client.post(f"/api/labs/{world['lab'].id}/risk-assessment?lang=en", json={"answers": {}})
    assert "Answer this question." in resp.get_data(as_text=True)
    resp = client.post(f"/api/labs/{world['lab'].id}/risk-assessment", json={"answers": {}})
    assert "请回答此问题。" in resp.get_data(as_text=True)


@pytest.mark.parametrize("who, allowed", [("admin", True), ("leader", True), ("other_leader", False),
                                          ("officer", False), ("inspector", False)])
def test_who_may_assess(client, world, who, allowed):
    login(client, world[who])
    _assess(client, world["lab"], NOTHING, expect=201 if allowed else 403)


@pytest.mark.parametrize("who", ["officer", "inspector", "leader", "admin"])
def test_officers_and_inspectors_read_the_grade(client, world, who):
    services.assess_risk(world["lab"], NOTHING | {"hazchem_amount": 60}, world["admin"].id)
    login(client, world[who])
    assert client.get(f"/api/labs/{world['lab'].id}/risk").get_json()["risk_level"] == "II"
    page = client.get(f"/labs/{world['lab'].id}/risk").get_data(as_text=True)
    assert "危险化学品存量不少于 50 千克（升）" in page and "管理员" in page
    assert ('id="risk-form"' in page) == (who in ("leader", "admin"))


def test_regrade_flag_on_category_or_tag_change_and_cleared_by_assessing(app, world):
    lab = world["lab"]
    fields = {"code": lab.code, "name": lab.name, "building": lab.building, "floor": lab.floor, "room": lab.room,
              "phone": lab.phone, "college_id": lab.college_id, "category": "physics",
              "hazard_tags": ["gas_cylinders"], "active": True}
    services.update_lab(lab, fields | {"hazard_tags": ["gas_cylinders", "lasers"]})
    assert not lab.risk_reassess  # not assessed yet: nothing to re-grade

    services.assess_risk(lab, NOTHING | {"gas_cylinders": 1}, world["admin"].id)
    services.update_lab(lab, fields | {"hazard_tags": ["gas_cylinders", "lasers"], "phone": "0572-9"})
    assert not lab.risk_reassess  # the phone is no hazard
    services.update_lab(lab, fields | {"hazard_tags": ["lasers", "gas_cylinders"]})  # same tags, other order
    assert not lab.risk_reassess
    services.update_lab(lab, fields | {"hazard_tags": ["gas_cylinders"]})
    assert lab.risk_reassess

    services.assess_risk(lab, NOTHING | {"gas_cylinders": 1}, world["admin"].id)
    assert not lab.risk_reassess
    services.update_lab(lab, fields | {"category": "chemistry"})
    assert db.session.get(Lab, lab.id).risk_reassess
    assert lab.risk_level == RiskLevel.III  # the old grade stands until re-assessed


def test_regrade_flag_from_the_csv_import(app, world):
    lab = world["lab"]
    services.assess_risk(lab, NOTHING, world["admin"].id)
    header = "code,name,college,category,building,floor,room,phone,hazard_tags,officers,active\n"
    row = f"{lab.code},{lab.name},CHEM,physics,理工楼,3,301,0572-1,{{tags}},{world['officer'].username},1\n"
    csv_import.import_labs((header + row.format(tags="gas_cylinders")).encode())
    assert not db.session.get(Lab, lab.id).risk_reassess
    csv_import.import_labs((header + row.format(tags="gas_cylinders;radiation")).encode())
    db.session.expire_all()
    assert db.session.get(Lab, lab.id).risk_reassess


def test_admin_form_sets_the_flag_and_the_pages_show_it(client, world):
    lab = world["lab"]
    services.assess_risk(lab, NOTHING | {"gas_cylinders": 1}, world["leader"].id)
    login(client, world["admin"])
    form = {"code": lab.code, "name": lab.name, "building": lab.building, "floor": lab.floor, "room": lab.room,
            "phone": lab.phone, "college_id": lab.college_id, "category": "chemistry",
            "hazard_tags": ["gas_cylinders"], "active": "1"}
    assert client.post(f"/admin/labs/{lab.id}", data=form).status_code == 302
    page = client.get(f"/admin/labs/{lab.id}").get_data(as_text=True)
    assert "需重新定级" in page and "Ⅲ级" in page
    assert 'id="risk-reassess"' in client.get(f"/labs/{lab.id}/risk").get_data(as_text=True)


def test_the_page_form_grades_the_lab(client, world):
    lab = world["lab"]
    login(client, world["leader"])
    page = client.get(f"/labs/{lab.id}/risk").get_data(as_text=True)
    assert "未定级" in page and "危险化学品存量" in page
    form = {k: ("no" if v is False else v) for k, v in NOTHING.items()} | {"biosafety_level": "bsl3"}
    resp = client.post(f"/labs/{lab.id}/risk", data=form)
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Ⅰ级 · 红 · 重大风险" in page and "BSL-3" in page and "每周一次学院检查" in page
    bad = client.post(f"/labs/{lab.id}/risk", data=form | {"hazchem_amount": "lots"})
    assert bad.status_code == 400 and "hazchem_amount" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LabRiskAssessment)) == 1


def test_history_is_never_deleted_or_changed(app, world):
    record = services.assess_risk(world["lab"], NOTHING, world["admin"].id)
    db.session.delete(record)
    with pytest.raises(RiskHistoryRefused):
        db.session.flush()
    db.session.rollback()
    record = db.session.get(LabRiskAssessment, record.id)
    record.risk_level = RiskLevel.I
    with pytest.raises(RiskHistoryRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError, match="never deleted"):
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM lab_risk_assessments"))
    assert db.session.scalar(select(func.count()).select_from(LabRiskAssessment)) == 1


def test_lab_lists_filter_by_risk_level(client, world):
    services.assess_risk(world["lab"], NOTHING | {"radiation": "high"}, world["admin"].id)
    login(client, world["admin"])
    codes = lambda q: [lab["code"] for lab in client.get(f"/api/labs?risk_level={q}").get_json()]  # noqa: E731
    assert codes("I") == ["CHEM-101"] and codes("none") == ["LIFE-101"]
    assert codes("IV") == [] and codes("reassess") == []
    assert client.get("/api/labs?risk_level=V").status_code == 400
    page = client.get("/admin/labs?risk=I").get_data(as_text=True)
    assert "CHEM-101" in page and "LIFE-101" not in page
    assert "LIFE-101" in client.get("/admin/labs?risk=bogus").get_data(as_text=True)  # unknown: all labs
    login(client, world["officer"])
    assert [lab["risk_level"] for lab in client.get("/api/labs").get_json()] == ["I"]


def test_a_lab_id_beyond_32_bits_is_404_for_both_routes(client, world):
    login(client, world["admin"])
    assert client.post("/api/labs/99999999999999/risk-assessment", json={"answers": NOTHING}).status_code == 404
    assert client.get("/api/labs/99999999999999/risk").status_code == 404


def test_openapi_documents_risk(client, world):
    login(client, world["admin"])
    spec = client.get("/api/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/labs/{lab_id}/risk-assessment"]
    assert "get" in spec["paths"]["/api/labs/{lab_id}/risk"]
    schemas = spec["components"]["schemas"]
    lab_schema = next(v for k, v in schemas.items() if k.startswith("Lab") and "risk_level" in v.get("properties", {}))
    assert lab_schema["properties"]["risk_level"]["type"] == "string"
    params = spec["paths"]["/api/labs"]["get"].get("parameters", [])
    assert any(p["name"] == "risk_level" for p in params)


def test_qr_card_carries_the_grade(client, world):
    lab = world["lab"]
    services.assess_risk(lab, NOTHING | {"special_equipment": 2}, world["admin"].id)
    login(client, world["inspector"])
    by_qr = client.get(f"/api/qr/{lab.qr_token}").get_json()
    assert by_qr["risk_level"] == "II" and by_qr == client.get(f"/api/labs/{lab.id}").get_json()


def test_a_client_uuid_sent_again_records_one_assessment(client, world):
    lab = world["lab"]
    login(client, world["leader"])
    key = "3f1c2a52-0000-4000-8000-000000000011"
    first = client.post(f"/api/labs/{lab.id}/risk-assessment", json={"answers": NOTHING, "client_uuid": key})
    again = client.post(f"/api/labs/{lab.id}/risk-assessment", json={"answers": NOTHING, "client_uuid": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    other = client.post(f"/api/labs/{lab.id}/risk-assessment",
                        json={"answers": NOTHING | {"gas_cylinders": 1}, "client_uuid": key})
    assert other.status_code == 409 and other.get_json()["error"]["details"]["fields"] == {"client_uuid": "taken"}
    assert client.post(f"/api/labs/{lab.id}/risk-assessment",
                       json={"answers": NOTHING, "client_uuid": "nope"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(LabRiskAssessment)) == 1


def test_the_page_form_sent_twice_records_once_and_an_edited_resend_is_a_new_one(client, world):
    lab = world["lab"]
    login(client, world["admin"])
    page = client.get(f"/labs/{lab.id}/risk").get_data(as_text=True)
    key = re.search(r'name="client_uuid" value="([0-9a-f-]{36})"', page).group(1)
    form = {k: ("no" if v is False else v) for k, v in NOTHING.items()} | {"client_uuid": key}
    assert client.post(f"/labs/{lab.id}/risk", data=form).status_code == 302
    assert client.post(f"/labs/{lab.id}/risk", data=form).status_code == 302  # double submit
    assert db.session.scalar(select(func.count()).select_from(LabRiskAssessment)) == 1
    assert client.post(f"/labs/{lab.id}/risk", data=form | {"gas_cylinders": "3"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(LabRiskAssessment)) == 2
    db.session.expire_all()
    assert db.session.get(Lab, lab.id).risk_answers["gas_cylinders"] == 3

"""Door QR codes: /l/<token> opens the lab (through login), unknown -> 404, replaced -> 410."""
from __future__ import annotations

from app.auth.models import Role
from app.extensions import db
from app.org.models import Lab, new_qr_token
from tests.factories import DEFAULT_PASSWORD, login, make_lab, make_user


def test_token_is_random_and_at_least_128_bits(app):
    tokens = {new_qr_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) >= 43 for t in tokens)  # 32 bytes, base64url


def test_token_is_not_derived_from_the_room(app):
    a = make_lab(code="X-101")
    b = make_lab(code="X-102")
    assert a.qr_token != b.qr_token
    assert a.room not in a.qr_token and a.code not in a.qr_token


def test_scan_when_logged_in_opens_the_lab(client):
    lab = make_lab()
    login(client, make_user(Role.lab_officer, lab=lab))
    resp = client.get(f"/l/{lab.qr_token}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/labs/{lab.id}")


def test_scan_when_logged_out_goes_through_login_and_back(client):
    lab = make_lab()
    user = make_user(Role.lab_officer, lab=lab)
    resp = client.get(f"/l/{lab.qr_token}")
    assert resp.status_code == 302
    login_url = resp.headers["Location"]
    assert "/login" in login_url
    page = client.get(login_url)
    assert page.status_code == 200
    resp = client.post(login_url, data={"username": user.username, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/l/{lab.qr_token}")
    resp = client.get(resp.headers["Location"])
    assert resp.headers["Location"].endswith(f"/labs/{lab.id}")
    assert client.get(f"/labs/{lab.id}").status_code == 200


def test_unknown_token_gives_a_clear_404_page(client):
    resp = client.get("/l/" + "A" * 43 + "?lang=en")
    assert resp.status_code == 404
    assert "does not belong to any lab" in resp.get_data(as_text=True)
    assert client.get("/l/" + "A" * 43).status_code == 404  # in Chinese by default


def test_replaced_token_gives_410_never_another_lab(client):
    lab = make_lab()
    other = make_lab()
    admin = make_user(Role.school_admin)
    login(client, admin)
    old = lab.qr_token
    resp = client.post(f"/admin/labs/{lab.id}/qr")
    assert resp.status_code == 302
    db.session.expire_all()
    new = db.session.get(Lab, lab.id).qr_token
    assert new != old
    gone = client.get(f"/l/{old}?lang=en")
    assert gone.status_code == 410
    assert "has been replaced" in gone.get_data(as_text=True)
    text = gone.get_data(as_text=True)
    assert other.name not in text and lab.name not in text
    assert client.get(f"/api/qr/{old}").get_json()["error"]["code"] == "gone"
    assert client.get(f"/l/{new}").headers["Location"].endswith(f"/labs/{lab.id}")


def test_replaced_token_says_so_even_when_logged_out(client):
    lab = make_lab()
    old = lab.qr_token
    from app.org import services

    services.reissue_qr_token(lab)
    assert client.get(f"/l/{old}").status_code == 410


def test_qr_api_card_equals_the_lab_detail_schema(client):
    # The QR API builds the card from rows (schemas.lab_card); it must say what LabDetailSchema says.
    from app.org.schemas import LabDetailSchema

    lab = make_lab(category="chemistry", hazard_tags=["hazardous_chemicals", "highly_toxic"])
    lab.name_en = "Organic lab"
    make_user(Role.lab_officer, lab=lab)
    make_user(Role.lab_officer, lab=lab)
    inactive = make_user(Role.lab_officer, lab=lab)
    inactive.active = False
    db.session.commit()
    login(client, make_user(Role.inspector))
    body = client.get(f"/api/qr/{lab.qr_token}").get_json()
    assert body == LabDetailSchema().dump(db.session.get(Lab, lab.id))
    assert len(body["officers"]) == 2 and body["college_name"] == lab.college.name


def test_qr_card_reads_only_the_labs_own_officers(client, is_postgres):
    # A lab whose officers are all inactive still has a card (no officers); the query reads the scanned
    # lab's role assignments by index, not the school's (SQLite once built every officer per scan).
    from app.org.services import _LAB_CARD_BY_TOKEN

    lab = make_lab()
    gone = make_user(Role.lab_officer, lab=lab)
    gone.active = False
    for _ in range(3):
        make_user(Role.lab_officer, lab=make_lab())
    db.session.commit()
    login(client, make_user(Role.inspector))
    body = client.get(f"/api/qr/{lab.qr_token}").get_json()
    assert body["id"] == lab.id and body["officers"] == []
    if not is_postgres:
        sql = str(_LAB_CARD_BY_TOKEN.compile(dialect=db.engine.dialect))
        plan = [row[3] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, ("lab_officer", lab.qr_token)).all()]
        assert not [step for step in plan if step.startswith(("SCAN", "MATERIALIZE"))], plan

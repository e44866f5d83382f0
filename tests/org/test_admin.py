"""School-admin pages for colleges, departments, labs and closures: CRUD and refusals."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.auth.models import Role
from app.auth.services import lab_officers
from app.extensions import db
from app.org.models import College, Department, Lab, LabClosure
from tests.factories import login, make_college, make_lab, make_user


def _admin(client):
    login(client, make_user(Role.school_admin))


def test_college_create_edit_and_refusals(client):
    _admin(client)
    resp = client.post("/admin/colleges", data={"code": "KEY1", "name": "重点实验室", "kind": "key_lab", "active": "1"})
    assert resp.status_code == 302
    college = db.session.scalar(select(College).where(College.code == "KEY1"))
    assert college.kind.value == "key_lab" and college.active
    assert client.post("/admin/colleges", data={"code": "KEY1", "name": "again"}).status_code == 409
    assert client.post("/admin/colleges", data={"code": "bad code!", "name": "x"}).status_code == 400
    assert client.post("/admin/colleges", data={"code": "X", "name": "x", "kind": "castle"}).status_code == 400
    assert db.session.scalar(select(func.count(College.id))) == 1
    resp = client.post(
        f"/admin/colleges/{college.id}", data={"code": "KEY1", "name": "新名字", "kind": "teaching_centre"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    college = db.session.get(College, college.id)
    assert (college.name, college.kind.value, college.active) == ("新名字", "teaching_centre", False)
    assert client.get("/admin/colleges/999999").status_code == 404


def test_department_create_and_edit(client):
    _admin(client)
    assert (
        client.post("/admin/departments", data={"code": "security", "name": "保卫处", "remit": "消防"}).status_code
        == 302
    )
    dept = db.session.scalar(select(Department).where(Department.code == "security"))
    assert dept.remit == "消防"
    assert client.post("/admin/departments", data={"code": "security", "name": "dup"}).status_code == 409
    assert (
        client.post(
            f"/admin/departments/{dept.id}", data={"code": "security", "name": "保卫处", "remit": "治安"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Department, dept.id).remit == "治安"


def _lab_form(college, **over):
    data = {"code": "CHEM-301", "name": "有机化学实验室", "college_id": str(college.id), "category": "chemistry",
            "building": "化学楼", "floor": "3", "room": "301", "phone": "0572-2321301", "active": "1"}
    data.update(over)
    return data


def test_lab_create_needs_an_officer_and_valid_fields(client):
    _admin(client)
    college = make_college()
    officer = make_user()
    assert client.post("/admin/labs/new", data=_lab_form(college)).status_code == 400  # no officer
    assert client.post("/admin/labs/new", data=_lab_form(college, officers="ghost")).status_code == 400
    assert (
        client.post("/admin/labs/new", data=_lab_form(college, officers=officer.username, category="x")).status_code
        == 400
    )
    assert (
        client.post("/admin/labs/new", data=_lab_form(college, officers=officer.username, phone="")).status_code == 400
    )
    assert db.session.scalar(select(func.count(Lab.id))) == 0
    data = _lab_form(college, officers=officer.username)
    data["hazard_tags"] = ["hazardous_chemicals", "gas_cylinders"]
    resp = client.post("/admin/labs/new", data=data)
    assert resp.status_code == 302
    lab = db.session.scalar(select(Lab).where(Lab.code == "CHEM-301"))
    assert lab.hazard_tags == ["hazardous_chemicals", "gas_cylinders"]
    assert [u.id for u in lab_officers(lab.id)] == [officer.id]
    assert client.post("/admin/labs/new", data=_lab_form(college, officers=officer.username)).status_code == 409


def test_lab_edit_deactivate_and_reactivation_rule(client):
    _admin(client)
    lab = make_lab(hazard_tags=["pathogens"])
    make_user(Role.lab_officer, lab=lab)
    resp = client.post(f"/admin/labs/{lab.id}", data=_lab_form(lab.college, code=lab.code, name="改名", active=""))
    assert resp.status_code == 302
    db.session.expire_all()
    lab = db.session.get(Lab, lab.id)
    assert (lab.name, lab.active, lab.hazard_tags) == ("改名", False, [])
    orphan = make_lab(active=False)
    resp = client.post(f"/admin/labs/{orphan.id}", data=_lab_form(orphan.college, code=orphan.code))
    assert resp.status_code == 409  # no officer: may not become active (art. 10(3))
    db.session.expire_all()
    assert db.session.get(Lab, orphan.id).active is False


def test_add_officer_on_the_lab_page(client):
    _admin(client)
    lab = make_lab()
    user = make_user()
    assert client.post(f"/admin/labs/{lab.id}/officers", data={"username": user.username}).status_code == 302
    assert [u.id for u in lab_officers(lab.id)] == [user.id]
    assert client.post(f"/admin/labs/{lab.id}/officers", data={"username": "ghost"}).status_code == 400


def test_closures_add_and_remove(client):
    _admin(client)
    lab = make_lab()
    other = make_lab()
    assert client.post(f"/admin/labs/{lab.id}/closures",
                       data={"start_date": "2027-01-18", "end_date": "2027-02-21", "reason": "寒假"}).status_code == 302
    closure = db.session.scalar(select(LabClosure).where(LabClosure.lab_id == lab.id))
    assert closure.reason == "寒假"
    # End before start, overlap, bad date: refused.
    for data, status in (({"start_date": "2027-03-02", "end_date": "2027-03-01"}, 400),
                         ({"start_date": "2027-02-01", "end_date": "2027-03-01"}, 409),
                         ({"start_date": "someday", "end_date": "2027-03-01"}, 400)):
        assert client.post(f"/admin/labs/{lab.id}/closures", data=data).status_code == status
    # Another lab's closure cannot be removed through this lab.
    assert client.post(f"/admin/labs/{other.id}/closures/{closure.id}/delete").status_code == 404
    assert client.post(f"/admin/labs/{lab.id}/closures/{closure.id}/delete").status_code == 302
    # Never deleted (art. 30): reopened from today, before it began, so it never happens; recorded.
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LabClosure.id))) == 1
    closure = db.session.get(LabClosure, closure.id)
    assert closure.planned_end_date == date(2027, 2, 21) and closure.end_date < closure.start_date
    assert closure.reopened_at is not None
    assert "2027-02-21" in client.get(f"/admin/labs/{lab.id}").get_data(as_text=True)
    assert client.post(f"/admin/labs/{lab.id}/closures/{closure.id}/delete").status_code == 409
    # The days are free again.
    assert client.post(f"/admin/labs/{lab.id}/closures",
                       data={"start_date": "2027-01-18", "end_date": "2027-02-10", "reason": "寒假"}).status_code == 302


def test_pages_render_for_the_admin(client):
    _admin(client)
    lab = make_lab()
    make_user(Role.lab_officer, lab=lab)
    for path in ("/admin/", "/admin/labs", f"/admin/labs?college={lab.college_id}&q=L", f"/admin/labs/{lab.id}",
                 "/admin/labs/new", "/admin/colleges", "/admin/departments", "/admin/import", "/admin/users",
                 "/admin/users/new", "/admin/import/example/users.csv"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        if resp.mimetype == "text/html":
            body = resp.get_data(as_text=True)
            assert "<script>" not in body and " onclick=" not in body


def test_forms_need_the_csrf_token(client):
    _admin(client)
    resp = client.post("/admin/colleges", data={"code": "X", "name": "x"}, headers={"X-CSRFToken": ""})
    assert resp.status_code == 400
    assert db.session.scalar(select(func.count(College.id))) == 0

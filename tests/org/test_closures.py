"""Holiday closures in bulk (issue 22): one request closes many labs in a fixed number of statements,
within the closer's reach; reopening early is recorded, nothing is deleted."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.org import closures, designees
from app.org.models import Lab, LabClosure, LabClosureBatch
from tests.factories import login, make_college, make_lab, make_user
from tests.statements import statements_of

D = date.fromisoformat
WINTER = {"from": "2027-01-18", "to": "2027-02-21", "reason": "寒假"}


def _bulk_labs(college, n, building="化学楼"):
    labs = [Lab(code=f"H{college.id}-{i}", name=f"实验室{i}", college_id=college.id, category="chemistry",
                building=building, hazard_tags=[]) for i in range(n)]
    db.session.add_all(labs)
    db.session.commit()
    return labs


def _count_statements(fn):
    seen, result = statements_of(fn)
    return len(seen), result


def _closed(lab_ids, day):
    return {i for i in db.session.scalars(closures.closed_lab_ids(day)) if i in set(lab_ids)}


def test_500_labs_closed_in_one_request_in_a_fixed_number_of_statements(client):
    small, large = make_college(), make_college()
    _bulk_labs(small, 5)
    big = _bulk_labs(large, 500)
    login(client, make_user(Role.school_admin))
    client.get("/api/closures")  # warm the session: both requests below start alike
    n_small, r_small = _count_statements(lambda: client.post("/api/closures", json={"college_id": small.id, **WINTER}))
    n_large, r_large = _count_statements(lambda: client.post("/api/closures", json={"college_id": large.id, **WINTER}))
    assert r_small.status_code == r_large.status_code == 201, r_large.get_data(as_text=True)
    assert (r_small.json["closed"], r_large.json["closed"]) == (5, 500)
    assert n_small == n_large
    assert len(_closed([lab.id for lab in big], D("2027-02-01"))) == 500
    assert not _closed([lab.id for lab in big], D("2027-02-22"))
    # Closing again changes nothing: every lab is already closed for the whole range.
    again = client.post("/api/closures", json={"college_id": large.id, **WINTER})
    assert (again.status_code, again.json["closed"], again.json["already_closed"]) == (201, 0, 500)
    assert db.session.scalar(select(func.count()).select_from(LabClosure)) == 505


def test_a_college_leader_closes_only_the_colleges_labs(client):
    mine, theirs = make_college(), make_college()
    my_labs, their_labs = _bulk_labs(mine, 3), _bulk_labs(theirs, 2)  # the same building name in both
    login(client, make_user(Role.college_leader, college=mine))
    assert client.post("/api/closures", json={"college_id": theirs.id, **WINTER}).status_code == 403
    assert client.post("/api/closures", json={"lab_ids": [my_labs[0].id, their_labs[0].id], **WINTER}).status_code \
        == 403
    resp = client.post("/api/closures", json={"building": "化学楼", **WINTER})
    assert resp.status_code == 201 and resp.json["closed"] == 3
    resp = client.post("/api/closures", json={"all": True, "from": "2027-07-01", "to": "2027-08-31", "reason": "暑假"})
    assert resp.status_code == 201 and resp.json["closed"] == 3
    assert not _closed([lab.id for lab in their_labs], D("2027-02-01"))
    assert len(_closed([lab.id for lab in my_labs], D("2027-02-01"))) == 3
    # The list holds only closures with the leader's labs.
    make_user_closure = closures.close_labs(make_user(Role.school_admin), college_id=theirs.id, start=D("2027-03-01"),
                                            end=D("2027-03-02"), reason="停电", now=datetime(2026, 12, 1))
    listed = {b["id"] for b in client.get("/api/closures").json}
    assert make_user_closure[0].id not in listed and len(listed) == 2


def test_bad_closures_are_refused_with_a_reason(client):
    college = make_college()
    _bulk_labs(college, 1)
    login(client, make_user(Role.school_admin))
    for body in ({**WINTER},  # no labs chosen
                 {"college_id": college.id, **WINTER, "to": "2027-01-01"},  # ends before it starts
                 {"college_id": college.id, **WINTER, "reason": " "},
                 {"college_id": college.id, **WINTER, "category": "kitchen"},
                 {"college_id": college.id, "from": "soon", "to": "2027-01-01", "reason": "x"}):
        resp = client.post("/api/closures", json=body)
        assert resp.status_code == 400, body
        assert resp.json["error"]["message"]
    assert client.post("/api/closures", json={"college_id": 999999, **WINTER}).status_code == 404
    assert client.post("/api/closures", json={"lab_ids": [999999], **WINTER}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(LabClosure)) == 0


def test_reopening_early_is_recorded_and_nothing_is_deleted(client):
    college, other = make_college(), make_college()
    labs = _bulk_labs(college, 3)
    other_lab = make_lab(other)
    admin, leader = make_user(Role.school_admin), make_user(Role.college_leader, college=college)
    login(client, leader)
    batch_id = client.post("/api/closures", json={"college_id": college.id, **WINTER}).json["id"]
    resp = client.post(f"/api/closures/{batch_id}/reopen", json={"on": "2027-02-10"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert (resp.json["reopened_labs"], resp.json["reopened_on"]) == (3, "2027-02-10")
    assert client.post(f"/api/closures/{batch_id}/reopen", json={"on": "2027-02-05"}).status_code == 409
    db.session.expire_all()
    rows = db.session.scalars(select(LabClosure).where(LabClosure.batch_id == batch_id)).all()
    assert len(rows) == 3
    assert {(r.end_date, r.planned_end_date, r.reopened_by_id) for r in rows} == {
        (D("2027-02-09"), D("2027-02-21"), leader.id)}
    ids = [lab.id for lab in labs]
    assert len(_closed(ids, D("2027-02-09"))) == 3 and not _closed(ids, D("2027-02-10"))
    batch = db.session.get(LabClosureBatch, batch_id)
    assert (batch.end_date, batch.reopened_on, batch.reopened_by_id) == (D("2027-02-21"), D("2027-02-10"), leader.id)
    # A school-wide closure holds another college's lab: the leader may not reopen it.
    wide, _ = closures.close_labs(admin, everything=True, start=D("2027-07-01"), end=D("2027-08-31"), reason="暑假",
                                  now=datetime(2026, 12, 1))
    assert wide.lab_count == 4 and other_lab.id in _closed([other_lab.id], D("2027-07-02"))
    assert client.post(f"/api/closures/{wide.id}/reopen", json={}).status_code == 403
    assert client.post(f"/api/closures/{wide.id + 1000}/reopen", json={}).status_code == 404


def test_closed_on_is_a_clause_rounds_can_use(app):
    college = make_college()
    a, b = make_lab(college), make_lab(college)
    closures.close_labs(make_user(Role.school_admin), lab_ids=[a.id], start=D("2027-01-18"), end=D("2027-02-21"),
                        reason="寒假", now=datetime(2026, 12, 1))
    open_labs = set(db.session.scalars(select(Lab.id).where(Lab.college_id == college.id,
                                                            ~closures.closed_on(D("2027-01-18")))))
    assert open_labs == {b.id}
    status = designees.day_status([a.id, b.id], D("2027-02-01"))
    assert (status[a.id][0], status[b.id][0]) == (D("2027-02-21"), None)


def test_the_closures_page_in_chinese(client):
    college = make_college()
    lab = make_lab(college)
    login(client, make_user(Role.college_leader, college=college))
    client.set_cookie("lang", "zh_CN")
    page = client.get("/closures", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "关闭" in page.get_data(as_text=True)
    resp = client.post("/closures", data={"lab_codes": lab.code, "start_date": "2027-01-18", "end_date": "2027-02-21",
                                          "reason": "寒假"})
    assert resp.status_code == 302
    assert _closed([lab.id], D("2027-01-20")) == {lab.id}
    assert client.post("/closures", data={"lab_codes": "NOPE", "start_date": "2027-01-18", "end_date": "2027-02-21",
                                          "reason": "寒假"}).status_code == 404
    batch_id = db.session.scalar(select(LabClosureBatch.id))
    assert client.post(f"/closures/{batch_id}/reopen").status_code == 302


def test_two_closures_of_a_lab_from_one_day_reopened_on_one_day_answer_409_not_500(client):
    """Two overlapping closures of a lab that start the same day, reopened from the same day, would
    end the same day too: the second is refused with a reason (lab, start and end are unique)."""
    college = make_college()
    labs = _bulk_labs(college, 1)
    login(client, make_user(Role.school_admin))
    first = client.post("/api/closures", json={"lab_ids": [labs[0].id], **WINTER}).json["id"]
    second = client.post("/api/closures", json={"lab_ids": [labs[0].id], **{**WINTER, "to": "2027-02-28"}})
    assert second.status_code == 201, second.get_data(as_text=True)
    assert client.post(f"/api/closures/{first}/reopen", json={"on": "2027-02-01"}).status_code == 200
    resp = client.post(f"/api/closures/{second.json['id']}/reopen", json={"on": "2027-02-01"})
    assert resp.status_code == 409, resp.get_data(as_text=True)
    assert resp.json["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(LabClosure)) == 2

"""The lab access roster (准入, art. 12-13): statuses, changes recorded, revoke, search, the JSON API,
and a college's people never reading another college's roster."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.roster import services
from app.roster.models import RosterEntry, RosterEvent, RosterRecordRefused
from tests.factories import login, make_college, make_lab, make_user
from tests.factories.roster import make_entry


def _today():
    return services.today(current_app.config)


def test_status_follows_exam_training_expiry_and_revocation(app):
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    t = _today()
    ok = make_entry(lab, staff_no="A1", valid_until=t)
    expired = make_entry(lab, staff_no="A2", valid_until=t - timedelta(days=1))
    failed = make_entry(lab, staff_no="A3", exam_passed=False, valid_until=t + timedelta(days=30))
    assert services.status_of(ok, t, False) == "valid"
    assert services.status_of(expired, t, False) == "expired"
    assert services.status_of(failed, t, False) == "no_exam"
    assert services.status_of(ok, t, True) == "no_training"  # art. 13(2): the lab's own training
    services.revoke_entry(officer, ok, "left the group")
    assert services.status_of(ok, t, False) == "revoked"


def test_default_expiry_is_the_setting_after_the_exam(app):
    from datetime import date
    lab = make_lab()
    entry = make_entry(lab, exam_date=date(2024, 1, 31))
    assert entry.valid_until == date(2025, 1, 31)
    app.config["ACCESS_VALID_MONTHS"] = 1
    assert services.default_valid_until(date(2024, 1, 31), app.config) == date(2024, 2, 29)


def test_every_change_is_recorded_and_rows_are_never_deleted(app):
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    entry = make_entry(lab, user=officer)
    services.update_entry(officer, entry, {"exam_score": 75, "name": "张三"})
    services.revoke_entry(officer, entry, "graduated")
    kinds = [e.kind for e in db.session.scalars(select(RosterEvent).order_by(RosterEvent.id))]
    assert kinds == ["added", "changed", "revoked"]
    changed = db.session.scalars(select(RosterEvent).where(RosterEvent.kind == "changed")).one()
    assert changed.changes == {"exam_score": [90, 75]}  # only what changed, before and after
    db.session.delete(db.session.get(RosterEntry, entry.id))
    try:
        db.session.flush()
        raise AssertionError("a roster row was deleted")
    except RosterRecordRefused:
        db.session.rollback()


def test_api_lists_adds_changes_revokes_and_searches(app, client):
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    login(client, officer)
    body = {"name": "李四", "staff_no": "T1001", "exam_date": "2025-09-01", "exam_score": 88, "exam_passed": True}
    resp = client.post(f"/api/labs/{lab.id}/roster", json=body)
    assert resp.status_code == 201, resp.get_json()
    entry = resp.get_json()
    assert entry["status"] in ("valid", "expired") and entry["valid_until"] == "2026-09-01"
    assert client.post(f"/api/labs/{lab.id}/roster", json=body).status_code == 409  # already on it
    assert client.post(f"/api/labs/{lab.id}/roster", json={"name": ""}).status_code == 400
    client.post(f"/api/labs/{lab.id}/roster", json={**body, "name": "王五", "staff_no": "T2002"})
    found = client.get(f"/api/labs/{lab.id}/roster?q=T100").get_json()["entries"]
    assert [e["name"] for e in found] == ["李四"]
    assert [e["staff_no"] for e in client.get(f"/api/labs/{lab.id}/roster?q=王").get_json()["entries"]] == ["T2002"]
    resp = client.patch(f"/api/labs/{lab.id}/roster/{entry['id']}",
                        json={"valid_until": "2030-01-01", "version": entry["version"]})
    assert resp.status_code == 200 and resp.get_json()["valid_until"] == "2030-01-01"
    stale = client.patch(f"/api/labs/{lab.id}/roster/{entry['id']}",
                         json={"exam_score": 1, "version": entry["version"]})
    assert stale.status_code == 409
    assert client.post(f"/api/labs/{lab.id}/roster/{entry['id']}/revoke", json={"reason": "x"}).status_code == 200
    assert client.post(f"/api/labs/{lab.id}/roster/{entry['id']}/revoke", json={}).status_code == 409
    listed = {e["staff_no"]: e["status"] for e in client.get(f"/api/labs/{lab.id}/roster").get_json()["entries"]}
    assert listed["T1001"] == "revoked"
    assert client.put(f"/api/labs/{lab.id}/roster/settings", json={"training_required": True}).get_json() == {
        "training_required": True}
    page = client.get(f"/labs/{lab.id}/roster")
    assert page.status_code == 200 and "王五" in page.get_data(as_text=True)


def test_a_college_never_reads_another_colleges_roster(app, client):
    a, b = make_college(), make_college()
    lab_a, lab_b = make_lab(a), make_lab(b)
    make_entry(lab_b, name="赵六")
    for user in (make_user(Role.college_leader, college=a), make_user(Role.inspector, college=a),
                 make_user(Role.lab_officer, lab=lab_a)):
        login(client, user)
        assert client.get(f"/api/labs/{lab_b.id}/roster").status_code == 403
        assert client.get(f"/labs/{lab_b.id}/roster").status_code == 403
        assert client.get(f"/api/labs/{lab_a.id}/roster").status_code == 200
        client.post("/api/logout")
    # An inspector reads but does not keep the roster (the lab's officer does, art. 10(3)).
    login(client, make_user(Role.inspector, college=b))
    assert client.get(f"/api/labs/{lab_b.id}/roster").status_code == 200
    assert client.post(f"/api/labs/{lab_b.id}/roster", json={"name": "x", "staff_no": "x1"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 1


def test_history_reads_in_words(app):
    from app.roster.labels import event_words
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    entry = make_entry(lab, user=officer, email="")
    services.update_entry(officer, entry, {"exam_passed": False})
    added, changed = db.session.scalars(select(RosterEvent).order_by(RosterEvent.id)).all()
    words = event_words(added)
    assert "None" not in words and "E-mail" not in words and "电子邮箱" not in words
    assert "True" not in event_words(changed) and "→" in event_words(changed)

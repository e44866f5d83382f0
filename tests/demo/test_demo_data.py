"""`flask demo-data`: a realistic university, idempotent; `flask demo-logins` prints the logins."""
from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import Role, RoleAssignment, User
from app.demo import data as demo
from app.extensions import db
from app.org.models import HAZARD_TAGS, College, CollegeKind, Department, Lab, LabCategory, LabClosure


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (College, Department, Lab, User, RoleAssignment, LabClosure)
    )


def test_demo_data_is_realistic_and_idempotent(runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    colleges, departments, labs, users, roles, closures = counts
    assert colleges >= 10 and departments == 3 and labs >= 60
    assert {c.kind for c in db.session.scalars(select(College))} == set(CollegeKind)
    assert set(db.session.scalars(select(Department.code))) == {"lab_management", "security", "assets"}
    all_labs = list(db.session.scalars(select(Lab)))
    assert {lab.category for lab in all_labs} == set(LabCategory)
    assert {t for lab in all_labs for t in lab.hazard_tags} == set(HAZARD_TAGS)
    covered = set(db.session.scalars(
        select(RoleAssignment.lab_id).join(User).where(RoleAssignment.role == Role.lab_officer, User.active)))
    assert all(lab.id in covered for lab in all_labs), "a lab without officer (art. 10(3))"
    assert {r.role for r in db.session.scalars(select(RoleAssignment))} == set(Role)

    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0
    assert _counts() == counts
    assert demo.load().changed is False


def test_demo_logins_work(runner, client):
    runner.invoke(args=["demo-data"])
    out = runner.invoke(args=["demo-logins"]).output
    assert "admin" in out and demo.DEMO_PASSWORD in out and "chem.officer1" in out
    resp = client.post("/api/login", json={"username": "chem.leader", "password": demo.DEMO_PASSWORD})
    assert resp.status_code == 200
    assert resp.get_json()["roles"][0]["role"] == "college_leader"


def test_plan_covers_every_category_and_hazard(app):
    assert demo.coverage_problems() == []

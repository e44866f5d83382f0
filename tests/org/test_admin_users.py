"""User administration: create, edit, reset password, deactivate, grant and revoke roles."""
from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import Role, RoleAssignment, User
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD, login, make_college, make_lab, make_user


def _admin_client(client):
    admin = make_user(Role.school_admin)
    login(client, admin)
    return admin


def test_create_user_then_log_in(app, client):
    _admin_client(client)
    resp = client.post("/admin/users/new", data={"username": "wang.fang", "name": "王芳",
                                                 "password": "a-long-password", "email": ""})
    assert resp.status_code == 302
    other = app.test_client()
    assert other.post("/api/login", json={"username": "wang.fang", "password": "a-long-password"}).status_code == 200


def test_create_user_refusals_change_nothing(client):
    _admin_client(client)
    make_user(username="taken")
    before = db.session.scalar(select(func.count(User.id)))
    for data, status in (
        ({"username": "taken", "name": "x", "password": "a-long-password"}, 409),
        ({"username": "has space", "name": "x", "password": "a-long-password"}, 400),
        ({"username": "ok.name", "name": "x", "password": "short"}, 400),
        ({"username": "ok.name", "password": "a-long-password"}, 400),
    ):
        assert client.post("/admin/users/new", data=data).status_code == status, data
    assert db.session.scalar(select(func.count(User.id))) == before


def test_edit_user(client):
    _admin_client(client)
    user = make_user()
    resp = client.post(f"/admin/users/{user.id}", data={"name": "新名字", "email": "n@example.edu.cn", "phone": "123"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "新名字"


def test_reset_password_ends_sessions(app, client):
    _admin_client(client)
    user = make_user()
    theirs = app.test_client()
    login(theirs, user)
    resp = client.post(f"/admin/users/{user.id}/password", data={"password": "brand-new-password"})
    assert resp.status_code == 302
    assert theirs.get("/api/me").status_code == 401
    assert theirs.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD}).status_code == 401
    assert (
        theirs.post("/api/login", json={"username": user.username, "password": "brand-new-password"}).status_code == 200
    )


def test_deactivate_and_activate(app, client):
    _admin_client(client)
    user = make_user(Role.inspector)
    theirs = app.test_client()
    login(theirs, user)
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert theirs.get("/api/me").status_code == 401
    assert theirs.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD}).status_code == 401
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "1"}).status_code == 302
    login(theirs, user)


def test_deactivating_the_last_officer_is_refused_on_the_page(client):
    _admin_client(client)
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    resp = client.post(f"/admin/users/{officer.id}/active?lang=en", data={"active": "0"})
    assert resp.status_code == 409
    assert "without a safety officer" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, officer.id).active


def test_admin_cannot_lock_themselves_out(client):
    admin = _admin_client(client)
    assert client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}).status_code == 409
    role_id = admin.roles[0].id
    assert client.post(f"/admin/users/{admin.id}/roles/{role_id}/revoke").status_code == 409


def test_grant_and_revoke_roles_with_scope(client):
    _admin_client(client)
    college = make_college()
    lab = make_lab(college)
    first = make_user(Role.lab_officer, lab=lab)
    user = make_user()
    assert (
        client.post(f"/admin/users/{user.id}/roles", data={"role": "lab_officer", "lab_code": lab.code}).status_code
        == 302
    )
    assert (
        client.post(
            f"/admin/users/{user.id}/roles", data={"role": "college_leader", "college_id": str(college.id)}
        ).status_code
        == 302
    )
    assert client.post(f"/admin/users/{user.id}/roles", data={"role": "inspector", "college_id": ""}).status_code == 302
    db.session.expire_all()
    roles = {(r.role, r.college_id, r.lab_id) for r in db.session.get(User, user.id).roles}
    assert roles == {
        (Role.lab_officer, None, lab.id),
        (Role.college_leader, college.id, None),
        (Role.inspector, None, None),
    }
    # Refusals: a college role without a college, an unknown lab.
    assert client.post(f"/admin/users/{user.id}/roles", data={"role": "college_head"}).status_code == 400
    assert (
        client.post(f"/admin/users/{user.id}/roles", data={"role": "lab_officer", "lab_code": "NOPE"}).status_code
        == 400
    )
    # Now two officers: the first may go; then the second is the last and may not.
    first_role = db.session.get(User, first.id).roles[0].id
    assert client.post(f"/admin/users/{first.id}/roles/{first_role}/revoke").status_code == 302
    officer_role = next(r.id for r in db.session.get(User, user.id).roles if r.role == Role.lab_officer)
    assert client.post(f"/admin/users/{user.id}/roles/{officer_role}/revoke").status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(func.count(RoleAssignment.id)).where(RoleAssignment.lab_id == lab.id)) == 1


def test_bad_login_changes_nothing(client):
    user = make_user(Role.inspector)
    before = (user.password_hash, user.session_version, user.active)
    for _ in range(2):
        assert client.post("/api/login", json={"username": user.username, "password": "wrong"}).status_code == 401
    resp = client.post("/login", data={"username": user.username, "password": "wrong"})
    assert resp.status_code == 401
    assert client.post("/api/login", json={"username": "nobody", "password": "x"}).status_code == 401
    db.session.expire_all()
    after = db.session.get(User, user.id)
    assert (after.password_hash, after.session_version, after.active) == before
    assert client.get("/api/me").status_code == 401

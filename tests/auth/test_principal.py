"""The signed-in user is loaded as a Principal (app/auth/principal.py): one SELECT, the ORM User's
answers, and every change to the user seen on the very next request (no cache)."""
from __future__ import annotations

from flask_login import current_user

from app.auth import services
from app.auth.models import Principal, Role
from app.extensions import db
from app.policy import Action, may, scope_of
from tests.factories import login, make_college, make_lab, make_user


def test_me_reads_the_same_as_the_orm_user(client):
    from app.auth.schemas import UserSchema

    college = make_college()
    user = make_user(Role.inspector, college=college)
    services.grant_role(user, Role.college_leader, college_id=college.id)
    db.session.commit()
    login(client, user)
    body = client.get("/api/me").get_json()
    expected = UserSchema().dump(services.get_user(user.id))
    assert body["roles"] == sorted(expected["roles"], key=lambda r: r["role"] != "inspector")  # assignment order
    assert body == dict(expected, roles=body["roles"])


def test_request_user_is_a_principal_with_the_policys_answers(app, client):
    lab = make_lab()
    officer = make_user(Role.lab_officer, lab=lab)
    login(client, officer)
    with client:
        client.get("/api/me")
        principal = current_user._get_current_object()
        assert isinstance(principal, Principal)
        assert principal.id == officer.id and principal.has_role(Role.lab_officer)
        assert scope_of(principal).officer_labs == {lab.id}
        assert may(principal, Action.DAILY_CHECK, lab) is may(officer, Action.DAILY_CHECK, lab) is True


def test_a_user_without_roles_loads_with_none(client):
    user = make_user()
    login(client, user)
    body = client.get("/api/me").get_json()
    assert body["id"] == user.id and body["roles"] == []


def test_role_changes_and_deactivation_apply_on_the_next_request(client):
    lab = make_lab()
    user = make_user(Role.inspector, college=lab.college)
    login(client, user)
    assert client.get(f"/api/labs/{lab.id}").status_code == 200
    assignment = user.roles[0]
    services.revoke_role(user, assignment.id)
    db.session.commit()
    assert client.get(f"/api/labs/{lab.id}").status_code == 403
    services.set_user_active(services.get_user(user.id), False)
    db.session.commit()
    assert client.get("/api/me").status_code == 401

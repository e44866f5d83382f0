"""Authentication events and refused access reach the audit log (logger "labsafe.audit")."""
from __future__ import annotations

import logging

import pytest

from app.auth import services
from app.auth.models import User
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD, login, make_college, make_lab, make_user


@pytest.fixture
def audit_log(caplog):
    caplog.set_level(logging.INFO, logger="labsafe.audit")

    def events(name=None):
        recs = [r for r in caplog.records if r.name == "labsafe.audit"]
        return [r for r in recs if name is None or r.audit_event == name]

    return events


def test_login_ok_failed_locked_and_logout_are_logged(app, client, audit_log):
    user = make_user("inspector")
    client.post("/api/login", json={"username": user.username, "password": "wrong"},
                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    failed = audit_log("login_failed")[-1]
    assert failed.audit_ip == "10.1.2.3" and failed.audit_path == "/api/login"
    assert user.username in failed.getMessage()

    login(client, user)
    ok = audit_log("login_ok")[-1]
    assert ok.audit_user_id == user.id and ok.audit_path == "/api/login"

    client.post("/api/logout")
    out = audit_log("logout")[-1]
    assert out.audit_user_id == user.id and out.audit_path == "/api/logout"

    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/api/login", json={"username": user.username, "password": "wrong"})
    client.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD})
    locked = audit_log("login_locked")[-1]
    assert locked.audit_path == "/api/login" and locked.audit_fields["retry_after"] > 0


def test_password_change_is_logged(app, audit_log):
    user = make_user("inspector")
    services.change_password(db.session.get(User, user.id), DEFAULT_PASSWORD, "another long password")
    assert [r.audit_user_id for r in audit_log("password_changed")] == [user.id]


def test_new_users_password_is_not_a_change(app, audit_log):
    make_user("inspector")
    assert audit_log("password_changed") == []


def test_refused_access_is_logged_with_user_ip_and_path(app, client, audit_log):
    lab_b = make_lab(make_college())
    officer = make_user("lab_officer", lab=make_lab(make_college()))
    login(client, officer)
    resp = client.get(f"/api/labs/{lab_b.id}", environ_base={"REMOTE_ADDR": "10.4.5.6"})
    assert resp.status_code == 403
    rec = audit_log("access_refused")[-1]
    assert rec.audit_user_id == officer.id
    assert rec.audit_ip == "10.4.5.6"
    assert rec.audit_path == f"/api/labs/{lab_b.id}"
    assert rec.audit_fields["status"] == 403


def test_anonymous_401_is_logged(client, audit_log):
    assert client.get("/api/me").status_code == 401
    rec = audit_log("access_refused")[-1]
    assert rec.audit_user_id is None and rec.audit_path == "/api/me" and rec.audit_fields["status"] == 401

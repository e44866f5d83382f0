"""CAS 2.0/3.0 login against a CAS server on 127.0.0.1 (tests/auth/sso_servers.py): python-cas
validates each service ticket over HTTP; refusals are clear pages, logged; single logout both ways."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import Role, SsoSession, User
from app.extensions import db
from tests.factories.auth import DEFAULT_PASSWORD, make_user
from tests.factories.sso import cas_round_trip, make_staff, provider_step, refusals, use_cas

from .sso_servers import query_of


def _api_login(client, user):
    return client.post("/api/login", json={"username": user.username, "password": DEFAULT_PASSWORD})


def _me(client):
    return client.get("/api/me")


def test_a_known_staff_number_logs_in_over_cas3_and_lands_on_its_work(app, client, cas_server, audit_log):
    use_cas(app, cas_server)
    user = make_staff(Role.inspector, staff_no="20190001")
    cas_server.user = ("20190001", {"cn": "王老师", "mail": "wang@example.edu.cn"})
    resp, _back = cas_round_trip(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/app/scan")  # an inspector's landing
    assert cas_server.validations == ["/cas/p3/serviceValidate"]
    me = _me(client)
    assert me.status_code == 200 and me.get_json()["id"] == user.id
    row = db.session.scalar(select(SsoSession))
    assert row.user_id == user.id and row.protocol == "cas" and row.ended_at is None
    assert "sso_login" in [getattr(r, "audit_event", "") for r in audit_log.records]


def test_cas2_validates_on_service_validate_and_next_wins(app, client, cas_server):
    use_cas(app, cas_server, CAS_VERSION="2")
    make_staff(Role.inspector, staff_no="T1")
    cas_server.user = ("T1", {})
    resp, _ = cas_round_trip(client, next_path="/app/tickets")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/app/tickets")
    assert cas_server.validations == ["/cas/serviceValidate"]


def test_the_staff_number_may_come_from_an_attribute_and_email_matching_is_a_setting(app, client, cas_server):
    use_cas(app, cas_server, CAS_ATTRIBUTE_STAFF_NO="employeeNumber")
    user = make_staff(Role.inspector, staff_no="E42")
    cas_server.user = ("wang", {"employeeNumber": "E42"})
    resp, _ = cas_round_trip(client)
    assert resp.status_code == 302 and _me(client).get_json()["id"] == user.id

    client.post("/logout")
    app.config["SSO_MATCH_BY"] = "email"
    other = make_user(Role.inspector, email="Li.Ming@Example.edu.cn")
    cas_server.user = ("liming", {"mail": "li.ming@example.edu.cn"})
    resp, _ = cas_round_trip(client)
    assert resp.status_code == 302 and _me(client).get_json()["id"] == other.id


def test_an_unknown_account_gets_a_clear_page_and_nothing_is_created(app, client, cas_server, audit_log):
    use_cas(app, cas_server)
    users = db.session.scalar(select(func.count()).select_from(User))
    cas_server.user = ("99999999", {"cn": "陌生人"})
    resp, _ = cas_round_trip(client)
    assert resp.status_code == 403
    assert "请向实验室管理部门申请" in resp.get_data(as_text=True)  # zh-CN by default
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert refusals(audit_log) == ["unknown_account"]
    assert _me(client).status_code == 401

    client.set_cookie("labsafe_lang", "en")
    cas_server.user = ("99999999", {})
    resp, _ = cas_round_trip(client)
    assert resp.status_code == 403 and "Ask your lab-management office for access" in resp.get_data(as_text=True)


def test_provisioning_creates_a_user_with_no_roles(app, client, cas_server, audit_log):
    use_cas(app, cas_server, SSO_PROVISION=True)
    cas_server.user = ("20230077", {"cn": "新老师", "mail": "new@example.edu.cn"})
    resp, _ = cas_round_trip(client)
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.staff_no == "20230077"))
    assert user.name == "新老师" and user.email == "new@example.edu.cn" and user.roles == [] and not user.has_password
    assert _me(client).get_json()["id"] == user.id
    assert "sso_user_provisioned" in [getattr(r, "audit_event", "") for r in audit_log.records]


def test_a_forged_ticket_is_refused_and_logged(app, client, cas_server, cas_staff, audit_log):
    start = client.get("/login/cas")
    service = query_of(start.headers["Location"])["service"]
    resp = client.get(service + "&ticket=ST-forged-by-someone")
    assert resp.status_code == 400 and 'data-reason="ticket_invalid"' in resp.get_data(as_text=True)
    assert refusals(audit_log) == ["ticket_invalid"]
    assert _me(client).status_code == 401


def test_a_replayed_ticket_is_refused_and_logged(app, client, cas_server, cas_staff, audit_log):
    resp, back = cas_round_trip(client)
    assert resp.status_code == 302
    ticket = query_of(back)["ticket"]
    # Another browser (an attacker who saw the URL) replays the callback: its state is not theirs.
    other = app.test_client()
    assert other.get(back).status_code == 400
    # ... and with a login of its own started, the ticket is spent at CAS (and known to LabSafe).
    service = query_of(other.get("/login/cas").headers["Location"])["service"]
    resp = other.get(f"{service}&ticket={ticket}")
    assert resp.status_code == 400
    assert refusals(audit_log) == ["bad_state", "ticket_invalid"]
    assert other.get("/api/me").status_code == 401


def test_a_ticket_for_another_service_is_refused(app, client, cas_server, cas_staff, audit_log):
    # A ticket the CAS server issued to another application (its service URL).
    stolen = query_of(provider_step(f"{cas_server.base}/cas/login?service=https://other.example/app"))["ticket"]
    service = query_of(client.get("/login/cas").headers["Location"])["service"]
    resp = client.get(f"{service}&ticket={stolen}")
    assert resp.status_code == 400 and refusals(audit_log) == ["ticket_invalid"]


def test_a_callback_without_the_login_state_is_refused(app, client, cas_server, audit_log):
    use_cas(app, cas_server)
    resp = client.get("/login/cas/callback?s=guess&ticket=ST-1")
    assert resp.status_code == 400 and refusals(audit_log) == ["bad_state"]


def test_an_inactive_user_is_refused(client, cas_staff, audit_log):
    cas_staff.active = False
    db.session.commit()
    resp, _ = cas_round_trip(client)
    assert resp.status_code == 403 and refusals(audit_log) == ["inactive"]


def test_campus_login_is_off_until_configured(client):
    assert client.get("/login/cas").status_code == 404
    assert client.get("/login/oidc").status_code == 404
    assert "campus-login" not in client.get("/login").get_data(as_text=True)


def test_the_login_page_shows_the_campus_button(app, client, cas_server):
    use_cas(app, cas_server)
    page = client.get("/login?next=/app/scan").get_data(as_text=True)
    assert 'id="campus-login-cas"' in page and "统一身份认证" in page


def test_passwords_can_be_switched_off_for_all_but_the_school_admin(app, client, cas_server, audit_log):
    use_cas(app, cas_server, LOCAL_LOGIN="admin")
    inspector = make_user(Role.inspector)
    admin = make_user(Role.school_admin)
    resp = client.post("/login", data={"username": inspector.username, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 401
    assert _api_login(client, inspector).status_code == 401
    assert "login_refused" in [getattr(r, "audit_event", "") for r in audit_log.records]
    assert _api_login(client, admin).status_code == 200
    # Without a campus login configured, the setting cannot lock everyone out.
    app.config["CAS_SERVER_URL"] = ""
    client.post("/api/logout")
    assert _api_login(client, inspector).status_code == 200


def test_logout_ends_the_cas_session_too(app, client, cas_server, cas_staff):
    cas_round_trip(client)
    resp = client.post("/logout")
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(f"{cas_server.base}/cas/logout?service=")
    assert query_of(location)["service"].endswith("/login")
    assert provider_step(location).endswith("/login")
    assert cas_server.logouts and db.session.scalar(select(SsoSession.end_reason)) == "logout"
    assert _me(client).status_code == 401


def test_a_cas_back_channel_logout_ends_that_session_only(app, client, cas_server, cas_staff, audit_log):
    _, back_phone = cas_round_trip(client)
    pc = app.test_client()
    cas_round_trip(pc)
    assert _me(client).status_code == 200 and _me(pc).status_code == 200
    # CAS POSTs the LogoutRequest for the phone's ticket to the service URL (no CSRF token: it is CAS).
    resp = app.test_client().post(back_phone.split("&ticket=")[0], headers={"X-CSRFToken": ""},
                                  data={"logoutRequest": cas_server.logout_request(query_of(back_phone)["ticket"])})
    assert resp.status_code == 200 and resp.get_json() == {"ended": True}
    assert _me(client).status_code == 401  # the phone's session is over
    assert _me(pc).status_code == 200  # the PC's is not
    events = [getattr(r, "audit_event", "") for r in audit_log.records]
    assert "sso_back_channel_logout" in events and "session_expired" in events


def test_a_malformed_or_foreign_logout_request_is_refused(app, client, cas_server, audit_log):
    use_cas(app, cas_server)
    anon = app.test_client()
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'
    for body in ("", "not xml", bomb, "<samlp:LogoutRequest xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>"):
        resp = anon.post("/login/cas/callback", data={"logoutRequest": body}, headers={"X-CSRFToken": ""})
        assert resp.status_code == 400, body
    # An unknown session index: nothing to end.
    resp = anon.post("/login/cas/callback", data={"logoutRequest": cas_server.logout_request("ST-unknown")},
                     headers={"X-CSRFToken": ""})
    assert resp.status_code == 200 and resp.get_json() == {"ended": False}
    app.config["CAS_LOGOUT_FROM"] = "10.0.8.15/32"
    resp = anon.post("/login/cas/callback", data={"logoutRequest": cas_server.logout_request("ST-x")},
                     headers={"X-CSRFToken": ""})
    assert resp.status_code == 403


def test_an_unreachable_cas_server_is_a_clear_page(app, client, cas_server, cas_staff):
    start = client.get("/login/cas")
    back = provider_step(start.headers["Location"])
    app.config["CAS_SERVER_URL"] = "http://127.0.0.1:9/cas/"  # nothing listens there
    resp = client.get(back)
    assert resp.status_code == 503 and 'data-reason="unreachable"' in resp.get_data(as_text=True)


def test_the_pages_let_forms_end_at_the_cas_server(app, client, cas_server):
    # CSP form-action binds a form's redirects too: the campus button and the logout end at CAS.
    assert "form-action 'self';" in client.get("/login").headers["Content-Security-Policy"] + ";"
    use_cas(app, cas_server)
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {cas_server.base}" in csp


@pytest.mark.parametrize("setting", [{"SSO_MATCH_BY": "phone"}, {"LOCAL_LOGIN": "none"}, {"CAS_VERSION": "1"}])
def test_a_setting_that_cannot_be_read_stops_the_start(tmp_path, setting):
    from app import create_app

    with pytest.raises(RuntimeError, match="LABSAFE_"):
        create_app("testing", INSTANCE_PATH=str(tmp_path), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db",
                   **setting)


def test_the_json_logout_ends_the_campus_session_record_too(client, cas_staff):
    cas_round_trip(client)
    assert client.post("/api/logout").status_code == 204
    assert db.session.scalar(select(SsoSession.end_reason)) == "logout"
    assert _me(client).status_code == 401

"""OpenID Connect login against a provider on 127.0.0.1 (tests/auth/sso_servers.py) through Authlib's
client: code flow with PKCE (S256), the ID token's signature, issuer, audience, expiry and nonce
checked; refusals are clear pages, logged; LabSafe's logout ends the provider's session."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import Role, SsoSession, User
from app.extensions import db
from tests.factories.sso import make_staff, oidc_round_trip, provider_step, refusals, use_oidc

from .sso_servers import query_of


def test_code_flow_with_pkce_logs_a_known_staff_number_in(client, oidc_provider, oidc_staff, audit_log):
    user = oidc_staff
    start = client.get("/login/oidc", query_string={"next": "/app/tickets"})
    params = query_of(start.headers["Location"])
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["nonce"] and params["state"]
    resp = client.get(provider_step(start.headers["Location"]))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/app/tickets")
    # The token request carried the PKCE verifier (the provider checked it against the challenge).
    assert oidc_provider.token_requests[-1]["code_verifier"]
    assert client.get("/api/me").get_json()["id"] == user.id
    row = db.session.scalar(select(SsoSession))
    assert row.protocol == "oidc" and row.id_token and row.user_id == user.id


def test_email_matching(app, client, oidc_provider):
    use_oidc(app, oidc_provider, SSO_MATCH_BY="email")
    user = make_staff(Role.inspector, staff_no="X", email="li@example.edu.cn")
    oidc_provider.claims = {"sub": "u-2", "email": "LI@example.edu.cn"}
    resp, _ = oidc_round_trip(client)
    assert resp.status_code == 302 and client.get("/api/me").get_json()["id"] == user.id


@pytest.mark.parametrize(("tamper", "reason"), [
    ("aud", "wrong_audience"),
    ("exp", "expired_token"),
    ("nonce", "bad_nonce"),
    ("signature", "bad_signature"),
    ("iss", "wrong_issuer"),
])
def test_a_bad_id_token_is_refused_and_logged(app, client, oidc_provider, oidc_staff, audit_log, tamper, reason):
    oidc_provider.tamper = tamper
    resp, _ = oidc_round_trip(client)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert f'data-reason="{reason}"' in resp.get_data(as_text=True)
    assert refusals(audit_log) == [reason]
    assert client.get("/api/me").status_code == 401
    assert db.session.scalar(select(func.count()).select_from(SsoSession)) == 0


def test_a_forged_state_and_a_replayed_code_are_refused(app, client, oidc_provider, oidc_staff, audit_log):
    resp, back = oidc_round_trip(client)
    assert resp.status_code == 302
    client.post("/api/logout")
    # The same callback again: its state was used up (and the code too, at the provider).
    assert client.get(back).status_code == 400
    # Another browser with a login of its own: its state differs from the callback's.
    other = app.test_client()
    other.get("/login/oidc")
    assert other.get(back).status_code == 400
    assert refusals(audit_log) == ["bad_state", "bad_state"]
    # A callback that brings a spent code with the right state: the provider refuses the code.
    start = other.get("/login/oidc")
    state = query_of(start.headers["Location"])["state"]
    resp = other.get(f"/login/oidc/callback?code={query_of(back)['code']}&state={state}")
    assert resp.status_code == 400 and refusals(audit_log)[-1].startswith("oidc_error")


def test_the_providers_error_answer_is_a_clear_page(app, client, oidc_provider, audit_log):
    use_oidc(app, oidc_provider)
    resp = client.get("/login/oidc/callback?error=access_denied&state=x")
    assert resp.status_code == 400 and refusals(audit_log) == ["provider_error"]


def test_an_unknown_account_is_refused_and_nothing_created(app, client, oidc_provider, audit_log):
    use_oidc(app, oidc_provider)
    n = db.session.scalar(select(func.count()).select_from(User))
    oidc_provider.claims = {"sub": "u-9", "preferred_username": "nobody"}
    resp, _ = oidc_round_trip(client)
    assert resp.status_code == 403 and "请向实验室管理部门申请" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == n
    assert refusals(audit_log) == ["unknown_account"]


def test_logout_ends_the_providers_session_with_the_id_token_hint(app, client, oidc_provider, oidc_staff):
    oidc_round_trip(client)
    id_token = db.session.scalar(select(SsoSession.id_token))
    resp = client.post("/logout")
    location = resp.headers["Location"]
    assert location.startswith(f"{oidc_provider.base}/end_session?")
    params = query_of(location)
    assert params["id_token_hint"] == id_token and params["post_logout_redirect_uri"].endswith("/login")
    assert provider_step(location).split("?")[0].endswith("/login")
    assert oidc_provider.end_sessions and client.get("/api/me").status_code == 401


def test_an_address_two_users_share_matches_neither_and_provisions_nobody(app, client, oidc_provider, audit_log):
    use_oidc(app, oidc_provider, SSO_MATCH_BY="email", SSO_PROVISION=True)
    make_staff(Role.inspector, staff_no="A", email="lab@example.edu.cn")
    make_staff(Role.inspector, staff_no="B", email="LAB@example.edu.cn")
    n = db.session.scalar(select(func.count()).select_from(User))
    oidc_provider.claims = {"sub": "u-3", "email": "lab@example.edu.cn"}
    resp, _ = oidc_round_trip(client)
    assert resp.status_code == 403 and refusals(audit_log) == ["ambiguous_email"]
    assert db.session.scalar(select(func.count()).select_from(User)) == n

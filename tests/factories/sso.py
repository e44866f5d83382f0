"""Campus-login fixtures' helpers (issue 25): users with a staff number, CAS and OIDC round trips."""
from __future__ import annotations

import requests

from app.extensions import db
from tests.factories.auth import make_user


def make_staff(role=None, staff_no: str = "20190001", **kw):
    """A user with a staff number (工号), the key a campus login finds them by."""
    user = make_user(role, **kw)
    user.staff_no = staff_no
    db.session.commit()
    return user


def use_cas(app, cas, **settings):
    app.config.update({"CAS_SERVER_URL": f"{cas.base}/cas/", "CAS_VERSION": "3", **settings})


def use_oidc(app, op, **settings):
    app.config.update(OIDC_DISCOVERY_URL=f"{op.base}/.well-known/openid-configuration",
                      OIDC_CLIENT_ID=op.client_id, OIDC_CLIENT_SECRET=op.client_secret, **settings)


def provider_step(location: str) -> str:
    """The browser at the provider (the user is logged in there): where it is sent back to."""
    resp = requests.get(location, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    return resp.headers["Location"]


def cas_round_trip(client, next_path: str | None = None):
    """/login/cas -> the CAS server -> back with a ticket: LabSafe's answer to the callback, and its URL."""
    start = client.get("/login/cas", query_string={"next": next_path} if next_path else None)
    assert start.status_code == 302, start.get_data(as_text=True)
    back = provider_step(start.headers["Location"])
    return client.get(back), back


def oidc_round_trip(client, next_path: str | None = None):
    start = client.get("/login/oidc", query_string={"next": next_path} if next_path else None)
    assert start.status_code == 302, start.get_data(as_text=True)
    back = provider_step(start.headers["Location"])
    return client.get(back), back


def refusals(caplog) -> list[str]:
    """The reasons of the refused campus logins in the audit log, in order."""
    return [r.audit_fields.get("reason") for r in caplog.records if getattr(r, "audit_event", "") == "sso_refused"]

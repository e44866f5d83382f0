"""The outbox across a campus login (issue 25): an inspection queued offline survives the CAS
server ending the session (back-channel logout) and is sent after the inspector logs in again
through CAS, as test_outbox_sessions.py holds for the password login."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from app.auth.models import SsoSession
from app.extensions import db
from app.inspections.models import Inspection
from app.photos.models import Photo
from tests.auth.sso_servers import CasServer, OidcProvider, running

from .test_inspector_flow import (
    _answer_all_pass_but_first,
    _review_and_submit,
    _start_checklist,
    _until,
    _wait_offline_ready,
    _world,
)

_OUTBOX_EMPTY = """async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open('labsafe'); r.onsuccess = () => ok(r.result); });
    const n = await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').count(); r.onsuccess = () => ok(r.result); });
    db.close();
    return n === 0;
}"""


@pytest.fixture
def cas_server():
    with running(CasServer()) as server:
        yield server


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _campus_login(page):
    """On LabSafe's login page: the campus button, CAS (the person is logged in there), back."""
    page.wait_for_url("**/login**")
    page.locator("#campus-login-cas").click()


def test_a_queued_inspection_survives_the_cas_logout_and_is_sent_after_the_campus_login(
        app, phone, live_server, cas_server):
    app.config.update(CAS_SERVER_URL=f"{cas_server.base}/cas/", LOCAL_LOGIN="admin")
    w = _world()
    w["inspector"].staff_no = "20190001"
    db.session.commit()
    cas_server.user = ("20190001", {"cn": "检查员"})
    ctx = phone()
    page = ctx.new_page()

    page.goto(f"/l/{w['lab'].qr_token}")  # the door QR: the login page, then CAS, then the lab card
    _campus_login(page)
    page.wait_for_url(f"**/app/labs/{w['lab'].id}")
    page.wait_for_selector("#lab-card:not([hidden])")
    _wait_offline_ready(page)
    ctx.set_offline(True)
    _until(page, "navigator.onLine === false")
    _start_checklist(page)
    _answer_all_pass_but_first(page)
    _review_and_submit(page)
    page.wait_for_selector('#done[data-state="queued"]')
    page.wait_for_selector('#outbox-badge[data-count="2"]')

    # Meanwhile the person logs out of the campus portal: CAS tells LabSafe (back channel).
    ticket = cas_server.issued()[-1]
    service = cas_server.tickets[ticket]["service"]
    resp = requests.post(service, data={"logoutRequest": CasServer.logout_request(ticket)}, timeout=10)
    assert resp.status_code == 200 and resp.json() == {"ended": True}

    ctx.set_offline(False)
    page.wait_for_selector("#relogin:not([hidden])")  # the API answers 401: log in again
    assert page.locator("#outbox-badge").get_attribute("data-count") == "2"
    assert _count(Inspection) == 0

    page.locator("#relogin a").click()
    _campus_login(page)  # a new campus login: a new ticket, a new LabSafe session
    page.wait_for_url("**/app/**")
    _until(page, _OUTBOX_EMPTY)
    page.wait_for_selector('#outbox-badge[data-count="0"]')
    assert _count(Inspection) == 1 and _count(Photo) == 1
    db.session.expire_all()
    assert [r.end_reason for r in db.session.scalars(select(SsoSession).order_by(SsoSession.id))] == [
        "cas_back_channel", None]

    # LabSafe's logout ends the campus session too: the form ends at CAS /logout, which sends the
    # browser back to LabSafe's login page.
    page.locator("#logout-form button").click()
    page.wait_for_url("**/login")
    assert cas_server.logouts and cas_server.logouts[-1].endswith("/login")
    db.session.expire_all()
    assert db.session.scalar(select(SsoSession.end_reason).order_by(SsoSession.id.desc()).limit(1)) == "logout"


def test_the_openid_connect_login_and_logout_in_the_browser(app, phone, live_server):
    with running(OidcProvider()) as op:
        app.config.update(OIDC_DISCOVERY_URL=f"{op.base}/.well-known/openid-configuration",
                          OIDC_CLIENT_ID=op.client_id, OIDC_CLIENT_SECRET=op.client_secret)
        w = _world()
        w["inspector"].staff_no = "20190001"
        db.session.commit()
        op.claims = {"sub": "u-1", "preferred_username": "20190001"}
        page = phone().new_page()
        page.goto(f"/l/{w['lab'].qr_token}")
        page.wait_for_url("**/login**")
        page.locator("#campus-login-oidc").click()
        page.wait_for_url(f"**/app/labs/{w['lab'].id}")
        page.wait_for_selector("#lab-card:not([hidden])")
        page.locator("#logout-form button").click()
        page.wait_for_url("**/login?state=*")  # back from the provider's end_session
        assert op.end_sessions and op.end_sessions[-1]["id_token_hint"]

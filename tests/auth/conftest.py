"""The campus identity servers the SSO tests run against (tests/auth/sso_servers.py)."""
from __future__ import annotations

import logging

import pytest

from app.auth.models import Role
from tests.factories.sso import make_staff, use_cas, use_oidc

from .sso_servers import CasServer, OidcProvider, running


@pytest.fixture
def cas_server():
    with running(CasServer()) as server:
        yield server


@pytest.fixture
def oidc_provider():
    with running(OidcProvider()) as server:
        yield server


@pytest.fixture
def audit_log(caplog):
    caplog.set_level(logging.INFO, logger="labsafe.audit")
    return caplog


@pytest.fixture
def cas_staff(app, cas_server):
    """CAS on, and an inspector with staff number 20190001, who is the one logged in at CAS."""
    use_cas(app, cas_server)
    cas_server.user = ("20190001", {})
    return make_staff(Role.inspector, staff_no="20190001")


@pytest.fixture
def oidc_staff(app, oidc_provider):
    """OIDC on, and an inspector with staff number 20190001, who is the one logged in at the provider."""
    use_oidc(app, oidc_provider)
    oidc_provider.claims = {"sub": "u-1", "preferred_username": "20190001"}
    return make_staff(Role.inspector, staff_no="20190001")

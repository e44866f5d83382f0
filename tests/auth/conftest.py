"""The campus identity servers the SSO tests run against (tests/auth/sso_servers.py)."""
from __future__ import annotations

import pytest

from .sso_servers import CasServer, OidcProvider, running


@pytest.fixture
def cas_server():
    with running(CasServer()) as server:
        yield server


@pytest.fixture
def oidc_provider():
    with running(OidcProvider()) as server:
        yield server

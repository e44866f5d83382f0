"""Every registered route is in the matrix, and every role gets exactly the access it should."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from tests.factories import login

from .matrix import PUBLIC, ROLES
from .world import build_world, case_modules

# Routes that are not application views.
NOT_VIEWS = {"/static/<path:filename>"}


def all_cases():
    cases = []
    for mod in case_modules():
        cases.extend(mod.CASES)
    return cases


def test_every_route_has_a_matrix_entry(app):
    covered = {(c.method, c.rule) for c in all_cases()}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule in NOT_VIEWS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, rule.rule) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, "routes without an access-matrix case:\n" + "\n".join(sorted(missing))


def _refused(resp, role):
    if role == "anon":
        if resp.status_code == 401:
            return True
        return resp.status_code in (302, 303) and "/login" in resp.headers.get("Location", "")
    return resp.status_code == 403


class _SignedIn:
    """Fresh clients signed in as one user: logged in once, then given copies of that login's cookies
    until a case ends the user's sessions (logout bumps session_version); then logged in again."""

    def __init__(self, app, user):
        self.app, self.user, self.user_id = app, user, user.id
        self.cookies, self.version = None, None

    def _session_version(self):
        with db.engine.connect() as conn:  # its own connection: the test's session may hold a snapshot
            return conn.scalar(select(User.session_version).where(User.id == self.user_id))

    def client(self):
        client = self.app.test_client()
        if self.cookies is None or self._session_version() != self.version:
            login(client, self.user)
            self.cookies = dict(client._cookies)  # werkzeug replaces a cookie, never changes one
            self.version = self._session_version()
        else:
            client._cookies.update(self.cookies)
        return client


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, role):
    world = build_world()
    signed_in = None if role == "anon" else _SignedIn(app, world.users[role])
    failures = []
    for case in all_cases():
        client = app.test_client() if signed_in is None else signed_in.client()
        path = case.path.format(**world.ids)
        kwargs = {}
        if case.json is not None:
            kwargs["json"] = case.json
        if case.data is not None:
            kwargs["data"] = case.data
        resp = client.open(path, method=case.method, **kwargs)
        # Public routes check no role; a 401 there means "wrong password", not "not allowed".
        refused = resp.status_code == 403 if case.allow == PUBLIC else _refused(resp, role)
        if role in case.allow and refused:
            failures.append(f"{role} was refused {case.method} {path} ({resp.status_code}) {case.note}")
        if role not in case.allow and not refused:
            failures.append(
                f"{role} was let through {case.method} {path} ({resp.status_code}) {case.note} "
                f"{resp.get_data(as_text=True)[:200]}"
            )
    assert not failures, "\n".join(failures)

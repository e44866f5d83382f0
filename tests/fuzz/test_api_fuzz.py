"""API fuzzing with schemathesis against /api/openapi.json, in process, as every role.

For each role and each documented operation: generated valid requests (random ids, then the
shared world's real ids) and invalid ones. Every response must be no 5xx and must match the
documentation: a documented status code, the documented content type and body schema.

Bounded for `make test` (a fixed seed via derandomize, LABSAFE_FUZZ_EXAMPLES examples per operation
and mode, default 10); `make fuzz` runs it with many more.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.access.matrix import ROLES
from tests.access.world import build_world
from tests.factories import login

EXAMPLES = int(os.environ.get("LABSAFE_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Logging out ends every session of the user (by design): it would log the fuzzer out mid-run.
SKIP = {("POST", "/api/logout")}
# Path parameters that have a real object in the shared world (in scope for college A's users).
WORLD_IDS = {
    "lab_id": "lab_a",
    "token": "token_a",
    "ticket_id": "ticket_a",
    "inspection_id": "inspection_a",
    "version_id": "version_a",
    "notification_id": "notification_a",
    "key": "checklist_key_a",
    "accident_id": "accident_a",  # tests/accidents/access_cases.py
}


def _credentials(app, world, role):
    client = app.test_client()
    if role == "anon":
        token = client.get("/api/csrf").get_json()["csrf_token"]
    else:
        token = login(client, world.users[role]).get_json()["csrf_token"]
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return {app.config["SESSION_COOKIE_NAME"]: cookie.value}, {"X-CSRFToken": token}


def _fuzz(app, operation, strategy, cookies, headers, n):
    @given(case=strategy)
    @settings(max_examples=n, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        with app.app_context():  # one app context per request, as in production
            response = case.call(cookies=cookies, headers=headers)
        case.validate_response(response, checks=CHECKS)

    run()


def _describe(exc: BaseException) -> str:
    """The failure titles, the first lines of each message and the request to reproduce it."""
    parts = []
    for e in getattr(exc, "exceptions", None) or [exc]:
        text = str(e)
        lines = [ln for ln in text.splitlines() if ln.strip()][:12]
        parts.append("\n".join(lines))
        notes = getattr(e, "__notes__", None) or getattr(exc, "__notes__", None) or []
        parts.extend(n.strip() for n in notes if "curl" in n)
    return "\n".join(parts)[:4000]


@pytest.mark.parametrize("role", ROLES)
def test_api_conforms_to_its_documentation(app, role):
    world = build_world()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        operations += 1
        path_names = [p.name for p in operation.path_parameters]
        known = {n: world.ids[WORLD_IDS[n]] for n in path_names if WORLD_IDS.get(n) in world.ids}
        cookies, headers = _credentials(app, world, role)
        passes = [("positive", operation.as_strategy(GenerationMode.POSITIVE), EXAMPLES),
                  ("negative", operation.as_strategy(GenerationMode.NEGATIVE), max(1, EXAMPLES // 3))]
        if path_names and len(known) == len(path_names):
            passes.append(("world ids", operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
                           max(1, EXAMPLES // 3)))
        for label, strategy, n in passes:
            try:
                _fuzz(app, operation, strategy, cookies, headers, n)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Unsatisfiable:
                continue  # nothing to vary (e.g. no parameters, so no invalid request exists)
            except BaseException as exc:  # noqa: BLE001  (schemathesis raises groups; report every operation)
                failures.append(f"[{role}] {operation.method.upper()} {operation.path} ({label}):\n{_describe(exc)}")
    assert operations > 5
    assert not failures, "\n\n".join(failures)

"""A NUL character (U+0000) anywhere a text value arrives is a 400 that says so, on both databases:
PostgreSQL's text columns cannot hold one, so it used to be a 500 there (found by make fuzz)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.auth.models import LoginAttempt
from app.extensions import db
from tests.factories import login
from tests.factories.inspections import make_small_world

MESSAGES = ("The request contains a NUL character (\\0), which no field accepts.",
            "请求中含有空字符（\\0），任何字段都不接受。")


def _refused(response):
    assert response.status_code == 400, response.status_code
    assert response.get_json()["error"]["message"] in MESSAGES


def test_a_login_with_a_nul_in_the_username_is_refused_and_leaves_no_attempt(app):
    client = app.test_client()
    r = client.post("/api/login", json={"username": "inspector\x00", "password": "x" * 12})
    _refused(r)
    assert r.get_json()["error"]["message"] == MESSAGES[1]  # Chinese first
    _refused(
        client.post("/login", data={"username": "a\x00b", "password": "x"}, headers={"Accept": "application/json"})
    )
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_json_escapes_query_and_path_are_checked(app):
    world = make_small_world()
    client = app.test_client()
    login(client, world.inspector_a)
    body = json.dumps({"note": {"nested": ["ok", "bad\u0000"]}})  # the escaped form, as JSON sends it
    assert "\\u0000" in body
    _refused(client.post("/api/inspections", data=body, content_type="application/json"))
    _refused(client.get("/api/tickets?state=open%00"))
    _refused(client.get("/api/qr/abc%00def"))


@pytest.mark.parametrize("text", ["\\u0000 as typed", "a backslash: \\\\u0000", "中文备注"])
def test_text_that_only_looks_like_a_nul_passes(app, text):
    client = app.test_client()
    # A JSON string holding the six characters \u0000 (escaped backslash) is not a NUL.
    body = json.dumps({"username": text, "password": "wrong password"})
    assert client.post("/api/login", data=body, content_type="application/json").status_code == 401

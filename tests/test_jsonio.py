"""The orjson provider keeps Flask's JSON output and input behaviour (app/jsonio.py)."""
from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from datetime import UTC, date, datetime

from flask.json.provider import DefaultJSONProvider


@dataclasses.dataclass
class _Point:
    x: int
    label: str


def _sample():
    return {
        "b": [1, 2.5, None, True],
        "a": "实验室 安全",
        "when": datetime(2026, 11, 25, 8, 30, tzinfo=UTC),
        "day": date(2026, 11, 25),
        "money": decimal.Decimal("1.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "point": _Point(1, "p"),
        "nested": {"z": 1, "y": {"x": [{"d": 1, "c": 2}]}},
    }


def test_dumps_equals_flasks_own_output(app):
    flask_default = DefaultJSONProvider(app)
    ours = app.json.dumps(_sample())
    assert json.loads(ours) == json.loads(flask_default.dumps(_sample()))
    # Keys sorted at every level, as Flask's provider does.
    assert ours.index('"a"') < ours.index('"b"') < ours.index('"day"')
    assert '"when":"Wed, 25 Nov 2026 08:30:00 GMT"' in ours


def test_response_is_compact_utf8_with_trailing_newline(app):
    with app.test_request_context():
        resp = app.json.response({"name": "化学实验室", "n": 1})
    assert resp.mimetype == "application/json"
    assert resp.get_data() == '{"n":1,"name":"化学实验室"}\n'.encode()


def test_values_orjson_refuses_fall_back_to_the_standard_library(app):
    huge = 2**70
    assert json.loads(app.json.dumps({"n": huge})) == {"n": huge}
    with app.test_request_context():
        assert json.loads(app.json.response({"n": huge}).get_data()) == {"n": huge}
    assert app.json.loads(f'{{"n": {huge}}}') == {"n": huge}
    assert app.json.loads('{"n": NaN}')["n"] != 0  # accepted as before (NaN)


def test_invalid_json_body_is_a_400_with_a_message(client):
    from tests.factories import login, make_user

    login(client, make_user("inspector"))
    resp = client.post("/api/inspections", data="{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["message"]


def test_an_unpaired_surrogate_is_refused_as_bad_json(app):
    import pytest

    for text in ('"\\ud800"', '{"note": "\\udc00x"}', '["\\ud800\\ud800"]'):
        with pytest.raises(ValueError):
            app.json.loads(text)
    assert app.json.loads('"\\ud83d\\ude00"') == "😀"  # a proper pair is one character


# ---- request bodies: what the server cannot or will not parse, and what a body may cost ------

import io  # noqa: E402

import pytest  # noqa: E402

from app.auth.api import LOGIN_BODY  # noqa: E402
from app.inspections.api import SUBMISSION_BODY  # noqa: E402
from app.jsonio import DEFAULT_JSON_LIMIT  # noqa: E402


def _post_json(client, path, body: bytes, **kwargs):
    return client.post(path, data=body, headers={"Content-Type": "application/json", **kwargs.pop("headers", {})},
                       **kwargs)


def test_the_standard_library_fallback_never_recurses_out(app):
    with pytest.raises(ValueError):
        app.json.loads("[" * 2000)  # orjson refuses past 1,024 levels; the fallback would recurse
    with pytest.raises(ValueError):
        app.json.loads('{"n": NaN, "x": ' + "[" * 5000 + "]" * 5000 + "}")  # the fallback, deep


@pytest.mark.parametrize("body", [b"[" * 2000, b'{"username": ' + b"[" * 2000, b'{"n": NaN, "x": ' + b"[" * 2000])
def test_deeply_nested_json_is_a_400_that_says_so_even_anonymously(client, body):
    resp = _post_json(client, "/api/login", body)
    assert resp.status_code == 400, resp.get_data()[:300]
    message = resp.get_json()["error"]["message"]
    assert "JSON" in message or "嵌套" in message


def test_deeply_nested_json_to_a_logged_in_endpoint(client):
    from tests.factories import login, make_user

    login(client, make_user("inspector"))
    resp = _post_json(client, "/api/inspections", b"[" * 3000)
    assert resp.status_code == 400 and "JSON" in resp.get_json()["error"]["message"]


def test_invalid_json_is_a_400_in_chinese_first(client):
    resp = _post_json(client, "/api/login", b'{"username": "a", ')
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid"
    assert "JSON" in resp.get_json()["error"]["message"] and "有效" in resp.get_json()["error"]["message"]


def test_an_oversized_login_is_refused_by_its_length_before_it_is_read(client, app):
    seen = []

    @app.before_request
    def _spy():  # runs after the bounds: a refused body never reaches here
        from flask import request

        seen.append(request.method)

    big = b'{"username": "a", "password": "' + b"x" * 12_000_000 + b'"}'
    resp = _post_json(client, "/api/login", big)
    assert resp.status_code == 413
    assert resp.get_json()["error"]["details"]["max_bytes"] == LOGIN_BODY.max_bytes
    assert len(resp.get_data()) < 400
    assert "POST" not in seen


def test_an_oversized_body_without_a_length_stops_at_the_limit(client):
    big = b'{"username": "a", "password": "' + b"x" * 100_000 + b'"}'
    resp = client.post("/api/login", input_stream=io.BytesIO(big),
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})  # as gunicorn says
    assert resp.status_code == 413


def test_a_login_body_that_is_not_json_is_bounded_too(client):
    resp = client.post("/api/login", data={f"k{i}": "v" for i in range(100_000)})
    assert resp.status_code == 413


def test_a_form_without_files_is_bounded_before_it_is_parsed(client):
    from app.jsonio import FORM_MAX_BYTES

    # The login page's form, anonymously: 1 MB of fields was parsed whole (by the CSRF check first).
    fields = "&".join(f"f{i}=x" for i in range(200_000))
    resp = client.post("/login", data=fields, content_type="application/x-www-form-urlencoded",
                       headers={"Accept": "application/json"})
    assert resp.status_code == 413
    assert resp.get_json()["error"]["details"]["max_bytes"] == FORM_MAX_BYTES


def test_a_million_unknown_keys_cost_a_short_answer(client):
    # A flood of unknown keys, scaled down: unknown keys under the byte limit are refused by count, and a body
    # over it by its length; either way the answer is a few hundred bytes.
    small = b"{" + b",".join(b'"%d":0' % i for i in range(400)) + b"}"
    assert len(small) < LOGIN_BODY.max_bytes
    resp = _post_json(client, "/api/login", small)
    assert resp.status_code == 413 and len(resp.get_data()) < 400
    assert resp.get_json()["error"]["details"]["max_items"] == LOGIN_BODY.max_items
    huge = b"{" + b",".join(b'"k%d":0' % i for i in range(1_000_000)) + b"}"
    resp = _post_json(client, "/api/login", huge)
    assert resp.status_code == 413 and len(resp.get_data()) < 400


def test_a_json_body_to_an_endpoint_that_declares_nothing_gets_the_default(client):
    from tests.factories import login, make_user

    login(client, make_user("inspector"))
    big = b'{"x": "' + b"a" * (DEFAULT_JSON_LIMIT.max_bytes + 1) + b'"}'
    assert _post_json(client, "/api/notifications/1/read", big).status_code == 413


def _world_with_a_long_list(n_items: int):
    from tests.factories.inspections import make_checklist_version, make_small_world

    w = make_small_world()
    w.long = make_checklist_version("full", items=[{"article": "12", "text": f"问题{i}"} for i in range(n_items)])
    return w


def test_the_largest_real_inspection_fits_and_a_larger_one_is_refused_before_parsing(app, client):
    """The full list applies 136 items to a chemistry lab with every hazard: each answered with a
    4,000-character Chinese note and 20 photos, the inspection is still accepted (not 413)."""
    import json

    from tests.factories import login
    from tests.factories.inspections import inspection_payload, new_uuid

    w = _world_with_a_long_list(136)
    login(client, w.inspector_a)
    payload = inspection_payload(w.lab_a, w.long, note="安" * 4000)
    for a in payload["answers"]:
        a["note"] = "安" * 4000
        a["photos"] = [new_uuid() for _ in range(20)]
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert 1_700_000 < len(body) <= SUBMISSION_BODY.max_bytes
    resp = _post_json(client, "/api/inspections", body)
    assert resp.status_code == 201, resp.get_data()[:300]
    assert resp.get_json()["complete"] is False  # the photos are still to come
    payload["uuid"] = new_uuid()
    payload["note"] = "安" * 4000 + " " * (SUBMISSION_BODY.max_bytes - len(body) + 1)
    resp = _post_json(client, "/api/inspections", json.dumps(payload, ensure_ascii=False).encode())
    assert resp.status_code == 413
    assert resp.get_json()["error"]["details"]["max_bytes"] == SUBMISSION_BODY.max_bytes


def test_too_many_values_in_an_inspection_are_refused_before_the_schema(client):
    from tests.factories import login, make_user

    login(client, make_user("inspector"))
    body = b'{"answers": [' + b",".join([b"0"] * SUBMISSION_BODY.max_items) + b"]}"
    assert len(body) < SUBMISSION_BODY.max_bytes
    resp = _post_json(client, "/api/inspections", body)
    assert resp.status_code == 413
    assert resp.get_json()["error"]["details"]["max_items"] == SUBMISSION_BODY.max_items


def test_a_validation_error_names_ten_fields_and_counts_the_rest(client):
    import json

    from tests.factories import login

    w = _world_with_a_long_list(40)
    login(client, w.inspector_a)
    from tests.factories.inspections import inspection_payload

    payload = inspection_payload(w.lab_a, w.long)
    for a in payload["answers"]:
        a["result"] = "maybe"
    payload.update({f"extra{i}": 1 for i in range(5)})
    resp = _post_json(client, "/api/inspections", json.dumps(payload).encode())
    assert resp.status_code == 400
    details = resp.get_json()["error"]["details"]
    named = sum(len(v) if k == "answers" else 1 for k, v in details["fields"].items())
    assert named == 10
    assert details["more_fields"] == 40 + 5 - 10

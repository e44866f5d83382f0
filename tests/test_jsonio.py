"""The orjson provider keeps Flask's JSON output and input behaviour (app/jsonio.py)."""
from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from datetime import date, datetime, timezone

from flask.json.provider import DefaultJSONProvider


@dataclasses.dataclass
class _Point:
    x: int
    label: str


def _sample():
    return {
        "b": [1, 2.5, None, True],
        "a": "实验室 安全",
        "when": datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc),
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
    assert app.json.loads('{"n": %d}' % huge) == {"n": huge}
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

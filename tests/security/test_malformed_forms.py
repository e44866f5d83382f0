"""Malformed form bodies get a 400 that says what is wrong, not a 500 (found by make fuzz)."""
from __future__ import annotations

import pytest

from tests.factories import login
from tests.factories.inspections import make_small_world, new_uuid

# A multipart part whose Content-Disposition names no field: werkzeug parses it as a field named None.
NAMELESS_FILE = (b'--b\r\nContent-Disposition: form-data; filename="x.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
                 b"abc\r\n--b--\r\n")
NAMELESS_FIELD = b"--b\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--b--\r\n"


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True  # the CSRF check reads the field names first
    return app


@pytest.mark.parametrize("body", [NAMELESS_FILE, NAMELESS_FIELD], ids=["file", "field"])
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "inspector"])
def test_a_form_part_without_a_name_is_400(csrf_app, body, logged_in):
    client = csrf_app.test_client()
    if logged_in:
        login(client, make_small_world().inspector_a)
    for method, path in (("PUT", f"/api/photos/{new_uuid()}"), ("POST", "/api/login"), ("POST", "/login")):
        r = client.open(path, method=method, data=body, content_type="multipart/form-data; boundary=b",
                        headers={"Accept": "application/json"})
        assert r.status_code == 400, (method, path, r.status_code)
        error = r.get_json()["error"]
        assert error["message"] in ("Every field of the form needs a name.", "表单的每个字段都需要名称。")


def test_the_message_is_in_chinese_first(csrf_app):
    r = csrf_app.test_client().put(f"/api/photos/{new_uuid()}", data=NAMELESS_FIELD,
                                   content_type="multipart/form-data; boundary=b")
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "表单的每个字段都需要名称。"


def test_named_fields_still_pass(csrf_app):
    # The same shape with a name reaches the CSRF check (refused for its missing token, not as malformed).
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\nabc\r\n--b--\r\n'
    r = csrf_app.test_client().put(
        f"/api/photos/{new_uuid()}", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert r.status_code in (400, 401) and "name" not in r.get_json()["error"]["message"].lower()

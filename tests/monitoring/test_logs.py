"""LABSAFE_LOG_FORMAT=json: one JSON object per line, each with the request's id, echoed in X-Request-ID."""
from __future__ import annotations

import io
import json
import logging

import pytest

from app import create_app
from app.monitoring.instrument import sane_request_id


@pytest.fixture
def json_app(tmp_path):
    app = create_app("testing", INSTANCE_PATH=str(tmp_path / "instance"),
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'logs.sqlite3'}", LOG_FORMAT="json")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "labsafe_json", False))
    out = io.StringIO()
    handler.setStream(out)
    app.log_lines = lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    yield app
    logging.getLogger().removeHandler(handler)


def test_each_request_logs_one_json_line_with_its_id(json_app):
    client = json_app.test_client()
    # The line is written once the answer's last byte is sent (a server reads the body to its end).
    resp = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    resp.get_data()
    assert resp.headers["X-Request-ID"] == "lb-7f3a.42"
    resp = client.get("/no/such/page")
    resp.get_data()
    generated = resp.headers["X-Request-ID"]
    lines = json_app.log_lines()
    requests = [line for line in lines if line["logger"] == "labsafe.request"]
    assert [(r["request_id"], r["endpoint"], r["status"]) for r in requests] == [
        ("lb-7f3a.42", "monitoring.healthz", 200), (generated, "none", 404)]
    first = requests[0]
    assert first["route"] == "/healthz" and first["method"] == "GET" and first["duration_ms"] >= 0
    assert first["ts"].endswith("Z") and first["level"] == "INFO"


def test_other_loggers_carry_the_request_id(json_app):
    @json_app.get("/log-something")
    def log_something():
        logging.getLogger("labsafe.audit").info("something happened", extra={"user": 7})
        return "ok"

    resp = json_app.test_client().get("/log-something")
    resp.get_data()
    rid = resp.headers["X-Request-ID"]
    (audit,) = [line for line in json_app.log_lines() if line["logger"] == "labsafe.audit"]
    assert audit == {**audit, "message": "something happened", "request_id": rid, "user": 7}


def test_an_exception_is_one_line_too(json_app):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("labsafe.test").exception("failed")
    (line,) = [x for x in json_app.log_lines() if x["logger"] == "labsafe.test"]
    assert "ValueError: boom" in line["exc"] and "request_id" not in line


def test_an_answer_never_closed_lends_its_id_to_no_later_line(json_app):
    # A streamed answer a client never reads nor closes: the thread's next lines are not that request's.
    @json_app.get("/stream")
    def stream():
        return json_app.response_class((chunk for chunk in (b"a", b"b")), mimetype="text/plain")

    resp = json_app.test_client().get("/stream", buffered=False, headers={"X-Request-ID": "left-open"})
    assert resp.status_code == 200  # never read, never closed
    logging.getLogger("labsafe.test").info("after")
    (line,) = [x for x in json_app.log_lines() if x["logger"] == "labsafe.test"]
    assert "request_id" not in line


@pytest.mark.parametrize("given", ["", "a" * 129, "x y", "<script>", "id\r\nSet-Cookie: a=b", "é"])
def test_an_insane_request_id_is_replaced(given):
    rid = sane_request_id(given)
    assert rid != given and len(rid) == 32


def test_a_sane_request_id_is_kept():
    for given in ("abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "nginx:1a2b3c", "a" * 128):
        assert sane_request_id(given) == given


def test_text_is_the_default_and_a_wrong_format_stops_the_start(tmp_path):
    with pytest.raises(RuntimeError, match="LABSAFE_LOG_FORMAT"):
        create_app("testing", INSTANCE_PATH=str(tmp_path), LOG_FORMAT="xml")

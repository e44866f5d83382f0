"""/metrics: Prometheus's text format, parsed back; the gauges; who is answered."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from app.extensions import db
from app.jobs.models import NightlyRun
from app.monitoring import probes
from app.monitoring.setup import parse_networks
from app.notifications.models import OutboxEmail
from app.timeutil import utcnow
from tests.factories import make_lab, make_photo_row, make_ticket
from tests.statements import count_statements


def scrape(client, **kw) -> dict:
    resp = client.get("/metrics", **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_scrape_parses_and_counts_requests_by_endpoint_and_status(app, client):
    lab = make_lab()
    before = scrape(client)
    # A request is recorded once its answer's last byte is out (a server reads every body to its end).
    for _ in range(3):
        client.get("/healthz").get_data()
    client.get(f"/l/no-such-token-{lab.id}").get_data()  # a path with a token: labelled by its endpoint
    client.get("/no/such/page").get_data()
    after = scrape(client)
    key = dict(endpoint="monitoring.healthz", method="GET", status="200")
    assert value(after, "labsafe_http_requests_total", **key) - value(before, "labsafe_http_requests_total", **key) == 3
    assert (value(after, "labsafe_http_request_duration_seconds_count", **key)
            - value(before, "labsafe_http_request_duration_seconds_count", **key)) == 3
    assert value(after, "labsafe_http_request_duration_seconds_bucket", le="+Inf", **key) >= 3
    assert value(after, "labsafe_http_requests_total", endpoint="none", method="GET", status="404") >= 1
    # Never a raw path in a label: the series stay as many as the routes.
    assert not any("no-such-token" in str(labels) or "/no/such" in str(labels) for _, labels in after)


def test_the_gauges(app, client):
    lab = make_lab()
    make_ticket(lab)
    make_ticket(lab, severity="major", deadline=utcnow() - timedelta(days=1))  # major: the college's, overdue
    photo = make_photo_row()
    photo.byte_size, photo.camera_original_bytes = 1000, 5000
    db.session.add(OutboxEmail(to_address="a@example.edu", subject="s", body="b",
                               created_at=utcnow() - timedelta(minutes=30), attempts=2))
    db.session.add(OutboxEmail(to_address="b@example.edu", subject="s", body="b", sent_at=utcnow()))
    db.session.add(NightlyRun(day=date(2026, 3, 1), finished_at=datetime(2026, 3, 1, 16, 31)))
    db.session.commit()
    s = scrape(client)
    pending_outbox = db.session.scalar(
        db.select(db.func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None)))
    assert value(s, "labsafe_outbox_emails") == pending_outbox
    assert value(s, "labsafe_outbox_emails_failing") >= 1
    assert 30 * 60 - 5 <= value(s, "labsafe_outbox_oldest_age_seconds") <= 30 * 60 + 600
    finished = datetime(2026, 3, 1, 16, 31, tzinfo=UTC).timestamp()
    assert value(s, "labsafe_nightly_last_success_timestamp_seconds") == finished
    assert value(s, "labsafe_nightly_days_behind") > 200  # nothing since 2026-03-01
    assert value(s, "labsafe_photos") == 1
    assert value(s, "labsafe_photo_store_bytes", kind="photo") == 1000
    assert value(s, "labsafe_photo_store_bytes", kind="camera_original") == 5000
    opened = {lvl: value(s, "labsafe_open_tickets", level=lvl) for lvl in ("lab", "college", "school")}
    assert sum(opened.values()) == 2 and opened["school"] == 0
    assert sum(value(s, "labsafe_overdue_tickets", level=lvl) for lvl in ("lab", "college", "school")) == 1


def test_a_job_that_ran_last_night_is_not_behind(app):
    from app.timeutil import school_today

    yesterday = school_today(app.config["SCHOOL_TIMEZONE"]) - timedelta(days=1)
    db.session.add(NightlyRun(day=yesterday, finished_at=utcnow()))
    db.session.commit()
    assert probes.gauges(app.config)["nightly_days_behind"] == 0


def test_the_gauges_cost_four_statements_whatever_the_data(app):
    def count():
        return count_statements(lambda: probes.gauges(app.config))

    empty = count()
    lab = make_lab()
    for _ in range(5):
        make_ticket(lab)
        make_photo_row()
    db.session.commit()
    assert empty == count() == 4


def test_metrics_are_refused_outside_the_monitoring_networks(app, client):
    app.extensions["labsafe.metrics_networks"] = parse_networks("10.20.0.0/16")
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert resp.status_code == 403
    assert "LABSAFE_METRICS_NETWORKS" in resp.get_json()["error"]["message"]
    scrape(client, environ_base={"REMOTE_ADDR": "10.20.3.4"})


def test_metrics_with_the_bearer_token_from_anywhere(app, client):
    app.extensions["labsafe.metrics_networks"] = ()
    app.config["METRICS_TOKEN"] = "s3cret-scrape-token-of-32-chars!"
    anywhere = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=anywhere).status_code == 403
    assert client.get("/metrics", environ_base=anywhere,
                      headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=anywhere,
                      headers={"Authorization": "Basic czNjcmV0"}).status_code == 403
    scrape(client, environ_base=anywhere, headers={"Authorization": "Bearer s3cret-scrape-token-of-32-chars!"})


def test_no_token_configured_means_no_token_works(app, client):
    app.extensions["labsafe.metrics_networks"] = ()
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                      headers={"Authorization": "Bearer "}).status_code == 403


def test_a_wrong_network_setting_stops_the_start():
    import pytest

    with pytest.raises(RuntimeError, match="not an address or network"):
        parse_networks("10.0.0.0/8, campus-monitoring")
    assert [str(n) for n in parse_networks(" 10.1.2.3 , ::1/128,")] == ["10.1.2.3/32", "::1/128"]


def _wsgi_call(app_fn, environ_extra=None):
    from werkzeug.test import EnvironBuilder

    from app.monitoring.instrument import ENDPOINT_KEY, RequestMetrics

    environ = EnvironBuilder(path="/x").get_environ()
    environ.update(environ_extra or {})
    environ[ENDPOINT_KEY] = "test.endpoint"
    started = []
    body = RequestMetrics(app_fn, log_requests=False)(
        environ, lambda status, headers, exc=None: started.append(headers))
    return body, started


def _count(status="200"):
    from app.monitoring.metrics import REQUESTS

    return REQUESTS.labels("test.endpoint", "GET", status)._value.get()


def test_a_file_answer_stays_a_file_for_sendfile_and_is_counted_when_closed(tmp_path):
    import io

    from werkzeug.wsgi import FileWrapper

    def file_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "image/jpeg")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"jpeg bytes"))

    before = _count()
    body, started = _wsgi_call(file_app, {"wsgi.file_wrapper": FileWrapper})
    assert isinstance(body, FileWrapper)  # the server may still sendfile() it
    assert ("X-Request-ID", started[0][-1][1]) in started[0]
    assert _count() == before
    body.close()
    assert _count() == before + 1


def test_an_answer_never_read_is_counted_when_the_server_closes_it():
    def streaming_app(environ, start_response):
        start_response("206 Partial Content", [])
        return iter([b"a", b"b"])

    before = _count("206")
    body, _ = _wsgi_call(streaming_app)
    body.close()
    body.close()
    assert _count("206") == before + 1


def test_behind_the_proxy_the_clients_address_decides_not_the_proxys(app):
    from app import create_app

    proxied = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         INSTANCE_PATH=app.instance_path, TRUSTED_PROXIES=1)
    client = proxied.test_client()
    # nginx on 127.0.0.1 (inside the default networks) passing on a request from outside: refused.
    outside = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert outside.status_code == 403
    assert outside.headers["X-Request-ID"]
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200

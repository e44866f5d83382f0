"""The Prometheus metrics: requests and their latency (counted as they happen, per worker process)
and the database's gauges (computed when scraped, probes.gauges).

Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR set (before the process starts: the client
library chooses its storage when imported), every worker writes its counters to files in that
directory and a scrape, answered by any one worker, sums them (prometheus_client's multiprocess
mode; deploy/README.md). Without it each process counts alone (one process: `flask run`, tests)."""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

disable_created_metrics()  # the *_created series double every series for nothing Prometheus uses

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REGISTRY = CollectorRegistry(auto_describe=True)

# Labels are the route's endpoint (e.g. "inspections_api.submit"), never the raw path: a path holds
# ids and tokens, and one series per lab would grow without bound. A request no route matched is "none".
REQUESTS = Counter(
    "labsafe_http_requests_total", "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"], registry=REGISTRY,
)
# Buckets: reads answer in a few ms, a submit in tens, a photo's decode ~150 ms, a document's
# first rendering seconds, a streamed ZIP up to minutes (deploy/gunicorn.conf.py's timeout).
LATENCY = Histogram(
    "labsafe_http_request_duration_seconds",
    "Time from the request's arrival to its last byte sent, by endpoint and status.",
    ["endpoint", "method", "status"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def observe(endpoint: str, method: str, status: int, seconds: float) -> None:
    labels = (endpoint, method, str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


# (name, help, the gauge values' key): one sample each.
_SINGLE = (
    ("labsafe_outbox_emails", "E-mails waiting in the outbox (not sent yet).", "outbox_pending"),
    ("labsafe_outbox_emails_failing", "Waiting e-mails whose sending failed at least once.", "outbox_failing"),
    ("labsafe_outbox_oldest_age_seconds", "Age of the oldest e-mail waiting in the outbox (0 when empty).",
     "outbox_oldest_age_seconds"),
    ("labsafe_nightly_last_success_timestamp_seconds",
     "When the nightly job last finished a day (Unix time; 0: never).",
     "nightly_last_success"),
    ("labsafe_nightly_days_behind", "School days that are over and the nightly job has not processed (0: up to date).",
     "nightly_days_behind"),
    ("labsafe_photos", "Photos stored (rows).", "photos"),
)
# (name, help, label, {label value: the gauge values' key} or the key of a {label value: value} dict).
_LABELLED = (
    ("labsafe_photo_store_bytes", "Bytes of the photos' files as recorded: the uploaded photos and the camera "
     "originals (the display copies and thumbnails not counted).", "kind",
     {"photo": "photo_bytes", "camera_original": "camera_original_bytes"}),
    ("labsafe_open_tickets", "Rectification tickets not closed, by level.", "level", "open_tickets"),
    ("labsafe_overdue_tickets", "Open tickets past their deadline, by level.", "level", "overdue_tickets"),
)


class _Gauges:
    """A collector that yields the gauges computed for one scrape (probes.gauges)."""

    def __init__(self, values: dict):
        self.values = values

    def collect(self):
        v = self.values
        for name, help_text, key in _SINGLE:
            g = GaugeMetricFamily(name, help_text)
            g.add_metric([], v[key])
            yield g
        for name, help_text, label, keys in _LABELLED:
            g = GaugeMetricFamily(name, help_text, labels=[label])
            samples = {lv: v[k] for lv, k in keys.items()} if isinstance(keys, dict) else v[keys]
            for label_value, count in samples.items():
                g.add_metric([label_value], count)
            yield g


def exposition(gauge_values: dict) -> bytes:
    """The scrape's text: this process's (or, in multiprocess mode, every worker's) request metrics,
    then the gauges."""
    if multiprocess_dir():
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    gauges = CollectorRegistry(auto_describe=True)
    gauges.register(_Gauges(gauge_values))
    return generate_latest(requests) + generate_latest(gauges)

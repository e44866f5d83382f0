"""/healthz, /readyz and /metrics: thin views; the policy decides who is answered (may_probe)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _

from app.policy import Action, may_probe

from . import metrics, probes

bp = Blueprint("monitoring", __name__)


@dataclass(frozen=True)
class Probe:
    """A probe as the policy reads it (policy._can_scrape)."""

    address: str | None
    networks: tuple
    token: str | None
    expected_token: str | None


def _probe() -> Probe:
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    return Probe(address=request.remote_addr, networks=current_app.extensions["labsafe.metrics_networks"],
                 token=token or None, expected_token=current_app.config.get("METRICS_TOKEN") or None)


def _refused(message: str):
    # Always JSON: the askers are machines (a load balancer, Prometheus), never a browser's page.
    resp = current_app.json.response({"error": {"status": 403, "code": "forbidden", "message": message}})
    resp.status_code = 403
    return resp


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/healthz")
def healthz():
    """The process answers; nothing else is asked (no database): a load balancer's liveness check."""
    if not may_probe(Action.PROBE_HEALTH, _probe()):
        return _refused(_("Not allowed."))
    return _no_store(current_app.response_class(b'{"status":"ok"}\n', mimetype="application/json"))


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers at the migrations' head and the photo store takes a write.
    503 with the reasons otherwise, so the load balancer sends requests elsewhere."""
    if not may_probe(Action.PROBE_READINESS, _probe()):
        return _refused(_("Not allowed."))
    result = probes.readiness(current_app.config)
    body = {"status": "ready" if result["ready"] else "not_ready", "checks": result["checks"]}
    if not result["ready"]:
        body["reason"] = "; ".join(v for v in result["checks"].values() if v != "ok")
    resp = current_app.json.response(body)
    resp.status_code = 200 if result["ready"] else 503
    return _no_store(resp)


@bp.get("/metrics")
def scrape():
    """Prometheus's text format: requests and latency by endpoint and status, the outbox, the nightly
    job, the photo store, open tickets by level. For the monitoring networks or the scrape token."""
    if not may_probe(Action.SCRAPE_METRICS, _probe()):
        return _refused(_(
            "Metrics are answered only to the monitoring network (LABSAFE_METRICS_NETWORKS) or with its "
            "bearer token (LABSAFE_METRICS_TOKEN)."))
    body = metrics.exposition(probes.gauges(current_app.config))
    return _no_store(Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE))

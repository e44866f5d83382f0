"""Wiring, called by create_app: the settings read once, the middleware, JSON logs."""
from __future__ import annotations

import ipaddress

from flask import Flask

from . import instrument
from .logs import use_json_logs


def parse_networks(value: str) -> tuple:
    """LABSAFE_METRICS_NETWORKS: comma-separated addresses or networks (CIDR); a wrong one stops the start."""
    nets = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise RuntimeError(f"LABSAFE_METRICS_NETWORKS: {part!r} is not an address or network ({exc}).") from exc
    return tuple(nets)


def init_app(app: Flask) -> None:
    fmt = (app.config.get("LOG_FORMAT") or "text").lower()
    if fmt not in ("text", "json"):
        raise RuntimeError(f"LABSAFE_LOG_FORMAT must be text or json (got {fmt!r}).")
    app.config["LOG_FORMAT"] = fmt
    if fmt == "json":
        use_json_logs()
    app.extensions["labsafe.metrics_networks"] = parse_networks(app.config.get("METRICS_NETWORKS", ""))
    instrument.init_app(app)

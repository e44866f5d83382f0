"""Monitoring (issue 26): /healthz, /readyz, /metrics (Prometheus), request ids and JSON log lines.

What a campus IT office's load balancer and Prometheus ask; deploy/ holds the files that run it."""

from tests.access.matrix import PUBLIC, Case

# The probes are asked by machines, not users: the policy decides by the client's address or a
# bearer token (policy.may_probe). The test client comes from 127.0.0.1, inside the default
# monitoring networks, so every role is answered here; tests/monitoring/test_metrics.py checks the
# refusals (another network, a wrong token) and the token.
CASES = [
    Case("GET", "/healthz", "/healthz", allow=PUBLIC, note="liveness: the process answers"),
    Case("GET", "/readyz", "/readyz", allow=PUBLIC, note="readiness: 200 or 503 with the reason, never 403"),
    Case("GET", "/metrics", "/metrics", allow=PUBLIC, note="from 127.0.0.1, a monitoring network by default"),
]

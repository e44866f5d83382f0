"""Per request: a request id, the request metrics and (LABSAFE_LOG_FORMAT=json) one JSON log line.

A WSGI middleware around the app, so the time counted runs to the last byte of a streamed answer
(a ZIP, a photo) and a request refused before any view (413, 400) is counted too. The id is the
client's X-Request-ID when it is sane (a proxy's, a load balancer's: one id through every hop),
otherwise a new one; the answer carries it back in X-Request-ID."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, request

from . import metrics
from .logs import request_id

_SANE_ID = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")
ENDPOINT_KEY = "labsafe.endpoint"
RULE_KEY = "labsafe.rule"
log = logging.getLogger("labsafe.request")


def sane_request_id(value: str | None) -> str:
    if value and _SANE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestMetrics:
    """Wraps the WSGI app: id, timing from arrival to the answer's last byte, metrics, log line."""

    def __init__(self, wsgi_app, *, log_requests: bool):
        self.wsgi_app = wsgi_app
        self.log_requests = log_requests

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        rid = sane_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ["HTTP_X_REQUEST_ID"] = rid
        seen = {"status": 500, "bytes": 0}

        def _start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", rid))
            return start_response(status, headers, exc_info)

        def finish():
            # The request's own line carries its id; set only while it is written, since the body may be
            # closed from another context (a server's cleanup) or, by a careless client, never.
            token = request_id.set(rid)
            try:
                self._record(environ, seen, time.perf_counter() - started)
            finally:
                request_id.reset(token)

        # The id is set while the app handles the request (views, services, the audit log) and reset
        # as soon as it answers: a body left unclosed must not lend its id to the thread's next lines.
        token = request_id.set(rid)
        try:
            body = self.wsgi_app(environ, _start_response)
        except BaseException:
            request_id.reset(token)
            finish()
            raise
        request_id.reset(token)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # A file (a photo, a static file): handed back as it is, so the server can sendfile() it;
            # counted when the server closes it, after the last byte.
            close = getattr(body, "close", None)

            def close_and_finish():
                try:
                    if close is not None:
                        close()
                finally:
                    finish()

            body.close = close_and_finish
            return body
        return _Counted(body, seen, finish)

    def _record(self, environ, seen, seconds: float) -> None:
        endpoint = environ.get(ENDPOINT_KEY) or "none"
        method = environ.get("REQUEST_METHOD", "")
        metrics.observe(endpoint, method, seen["status"], seconds)
        if self.log_requests:
            # The route, not the path: paths carry QR tokens and set-password links.
            log.info("%s %s %s", method, environ.get(RULE_KEY) or "-", seen["status"], extra={
                "method": method, "endpoint": endpoint, "route": environ.get(RULE_KEY),
                "status": seen["status"], "duration_ms": round(seconds * 1000, 2), "bytes": seen["bytes"],
                "remote_addr": environ.get("REMOTE_ADDR"),
            })


class _Counted:
    """The answer's body, its bytes counted; closing it (the server always does, WSGI) records the request
    once, whether it was read to the end, in part or not at all."""

    def __init__(self, body, seen: dict, finish):
        self.body, self.seen, self.finish, self.done = body, seen, finish, False

    def __iter__(self):
        for chunk in self.body:
            self.seen["bytes"] += len(chunk)
            yield chunk
        self.close()  # the last byte is out: recorded now (a test client may never close it)

    def close(self):
        if self.done:
            return
        self.done = True
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.finish()


def init_app(app: Flask) -> None:
    @app.after_request
    def _note_endpoint(response):
        # Read by the middleware once the answer is sent: the endpoint labels the metrics.
        request.environ[ENDPOINT_KEY] = request.endpoint or "none"
        if request.url_rule is not None:
            request.environ[RULE_KEY] = request.url_rule.rule
        return response

    app.wsgi_app = RequestMetrics(app.wsgi_app, log_requests=app.config.get("LOG_FORMAT") == "json")

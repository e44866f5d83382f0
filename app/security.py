"""Security headers, session timeouts, the general API rate limit and the audit log.

Hooked from create_app with ``init_security(app)``. The CSP allows no inline script and no inline
style: JavaScript lives in static/js, styles in static/css (templates must carry no ``<script>``
without ``src`` and no ``on*=`` attributes; tests/security/test_templates.py walks every page).
"""
from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, current_app, make_response, render_template, request

from app.auth import sessions
from app.auth.audit import audit
from app.auth.throttle import TooManyAttempts
from app.errors import InvalidInput, error_response, wants_json
from app.extensions import db

log = logging.getLogger(__name__)

# One policy for every response; a view may set its own header first (setdefault below).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
# The QR scanner needs the camera of this origin; nothing else needs a sensor.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"


_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_HEADERS_WITH_HSTS = _HEADERS + (("Strict-Transport-Security", HSTS),)


def security_headers(response: Response, *, hsts: bool, static: bool = False) -> Response:
    # Like Headers.setdefault for each, but the response's header names are read once (every
    # setdefault scans the whole list; this runs on every response).
    h = response.headers
    present = {name.lower() for name in h.keys()}
    for name, value in _HEADERS_WITH_HSTS if hsts else _HEADERS:
        if name.lower() not in present:
            h.add(name, value)
    if not static and "cache-control" not in present:
        # Pages and API answers carry a user's data: kept by no cache, so a shared phone's back
        # button shows nothing after logout. Static files, the service worker, photos and the
        # offline bundle set their own.
        h.add("Cache-Control", "no-store")
    return response


def init_security(app: Flask) -> None:
    hsts = bool(app.config.get("SECURE_HEADERS_HSTS"))
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address (throttle, audit) and scheme (Secure cookies, CSRF referer check).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        return security_headers(response, hsts=hsts, static=request.endpoint == "static")

    # Before Flask-WTF's CSRF check, which reads the form's field names (sessions.init_app then puts
    # the timeouts first).
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_malformed_input)
    sessions.init_app(app)
    _init_login_throttle_errors(app)
    _init_api_rate_limit(app)

    @app.after_request
    def _audit_refusals(response: Response) -> Response:
        # Refused access (401 from login_required, 403 from the policy) goes to the audit log;
        # the login endpoints log their own outcome (login_failed / login_locked).
        if response.status_code in (401, 403) and request.endpoint not in ("auth.login", "auth_api.login"):
            audit("access_refused", status=response.status_code)
        return response


_FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def _refuse_malformed_input():
    """Refuse, as the malformed requests they are, inputs that would otherwise reach a view or the
    database and fail there with a 500 (found by the API fuzzer, make fuzz):

    - a multipart part without a name parses to a field named None, which Flask-WTF's CSRF lookup
      (``key.endswith``) and any view reading the form fail on;
    - a NUL character (U+0000) in the path, the query or a form field: PostgreSQL's text columns
      cannot hold one (psycopg raises DataError), and no person types one. In a JSON string it is
      refused where the body is parsed (``jsonio.JsonRequest``), within the body's limits.
    """
    from flask_babel import gettext as _

    form = request.mimetype in _FORM_TYPES
    if form and (None in request.form or None in request.files):
        raise InvalidInput(_("Every field of the form needs a name."))
    if "\0" in request.path or _has_nul(request.args) or (form and _has_nul(request.form)):
        raise InvalidInput(_("The request contains a NUL character (\\0), which no field accepts."))
    return None


def _has_nul(multidict) -> bool:
    return any("\0" in key or "\0" in value for key, value in multidict.items(multi=True))


def _init_login_throttle_errors(app: Flask) -> None:
    @app.errorhandler(TooManyAttempts)
    def _too_many_attempts(err: TooManyAttempts):
        db.session.rollback()
        if request.endpoint == "auth.login" and not wants_json():
            # The form login shows the lock on the login page itself.
            next_url = request.form.get("next") or request.args.get("next", "")
            resp = make_response(render_template("auth/login.html", error=err.message, next=next_url), 429)
        else:
            resp = make_response(error_response(429, err.code, err.message, err.details))
        resp.headers["Retry-After"] = str(err.retry_after)
        return resp


def _init_api_rate_limit(app: Flask) -> None:
    """A general per-user (or per-address) limit on /api, counted in the app's rate-limit storage
    (RATELIMIT_STORAGE_URI: Redis where configured, so it is shared by every worker)."""
    limit_text = app.config.get("API_RATE_LIMIT")
    if not limit_text or not app.config.get("RATELIMIT_ENABLED", True):
        return
    from flask_babel import gettext as _
    from flask_login import current_user
    from limits import parse

    item = parse(limit_text)
    counters = app.extensions["labsafe_api_rate_limits"]

    @app.before_request
    def _api_rate_limit():
        if not request.path.startswith("/api/"):
            return None
        user_id = current_user.id if current_user.is_authenticated else None
        key = f"user:{user_id}" if user_id is not None else f"ip:{request.remote_addr}"
        try:
            if counters.hit(item, "labsafe-api", key):
                return None
        except Exception:  # noqa: BLE001  (the storage's own errors: redis, connection refused...)
            # The shared store is down: serve the request rather than fail every API call with a 500;
            # the limit is a brake on abuse, not an access rule (the policy and the login throttle stand).
            log.exception("API rate limit storage unavailable; request served without counting")
            return None
        reset = counters.get_window_stats(item, "labsafe-api", key).reset_time
        audit("rate_limited", limit=limit_text)
        resp = make_response(
            error_response(429, "rate_limited", _("Too many requests; please wait a moment and try again."))
        )
        resp.headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
        return resp


def public_base_url() -> str:
    """The site's public address (no trailing slash), as printed on the doors' QR codes.

    LABSAFE_PUBLIC_BASE_URL, which production requires; elsewhere the request's host, which the
    client's Host header decides (acceptable on a developer's machine only)."""

    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


# Ids in URLs: werkzeug's int converter takes any number of digits, and a 30-digit id reaches the
# database as an overflow (500). Bounded to the 32-bit range the id columns hold: larger is a 404.
MAX_URL_INT = 2**31 - 1

from werkzeug.routing import IntegerConverter  # noqa: E402


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_URL_INT if max is None else max,
                         signed=signed)

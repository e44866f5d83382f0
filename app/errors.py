"""Errors: services raise DomainError subclasses (plain Python, no Flask);
handlers turn them and HTTP errors into one JSON shape for the API and friendly pages for HTML.

JSON shape: {"error": {"status": 409, "code": "conflict", "message": "...", "details": {...}}}
"""
from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from app.extensions import db
from app.validation_messages import localize

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    status = 410
    code = "gone"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedMedia(DomainError):
    status = 415
    code = "unsupported_media_type"


class Busy(DomainError):
    """The server cannot take this now; nothing was stored and the same request later works."""

    status = 503
    code = "busy"
    retry_after = 2  # seconds, sent as Retry-After


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


_HTTP_MESSAGES = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Please log in first."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("Not found."),
    405: lambda: _("This method is not allowed here."),
    409: lambda: _("This conflicts with the current state; reload and try again."),
    413: lambda: _("The upload is too large."),
    415: lambda: _("This file type is not supported."),
    429: lambda: _("Too many attempts; please wait and try again."),
    500: lambda: _("Something went wrong on our side; nothing was saved."),
}


# An error body names this many wrong fields at most, and counts the rest: a body of a thousand
# unknown keys is answered in a few hundred bytes, not in an echo of every key.
MAX_FIELD_ERRORS = 10


def first_field_errors(messages: dict, limit: int = MAX_FIELD_ERRORS) -> tuple[dict, int]:
    """Marshmallow's nested error dict cut to its first ``limit`` fields (leaves, in order, nesting
    kept: ``{"answers": {3: {"note": [...]}}}``), and how many fields were left out."""
    kept = 0
    dropped = 0

    def cut(node: dict) -> dict:
        nonlocal kept, dropped
        out = {}
        for key, value in node.items():
            if isinstance(value, dict):
                if kept < limit:
                    sub = cut(value)
                    if sub:
                        out[key] = sub
                else:
                    dropped += _leaves(value)
            elif kept < limit:
                out[key] = value
                kept += 1
            else:
                dropped += 1
        return out

    return cut(messages), dropped


def _leaves(node: dict) -> int:
    stack, n = [node], 0
    while stack:
        for value in stack.pop().values():
            if isinstance(value, dict):
                stack.append(value)
            else:
                n += 1
    return n


def error_response(status: int, code: str, message: str, details: dict | None = None):
    if wants_json():
        body = {"error": {"status": status, "code": code, "message": message}}
        if details:
            body["error"]["details"] = details
        return body, status
    return render_template("error.html", status=status, message=message, details=details or {}), status


# PostgreSQL: deadlock_detected, lock_not_available (lock_timeout).
_LOCK_SQLSTATES = frozenset({"40P01", "55P03"})


def _waited_out_a_lock(err: OperationalError) -> bool:
    return "database is locked" in str(err.orig) or getattr(err.orig, "sqlstate", None) in _LOCK_SQLSTATES


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        db.session.rollback()  # a refused request leaves nothing behind
        body, status = error_response(err.status, err.code, err.message, err.details)
        retry_after = getattr(err, "retry_after", None)
        return (body, status, {"Retry-After": str(retry_after)}) if retry_after else (body, status)

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError):
        db.session.rollback()
        messages = localize(err.messages if isinstance(err.messages, dict) else {"_schema": err.messages})
        fields, more = first_field_errors(messages)
        details = {"fields": fields}
        if more:
            details["more_fields"] = more  # how many more fields were wrong
        return error_response(400, "invalid", _("Some fields are missing or invalid."), details)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return error_response(
            400, "csrf", _("Your session form token expired or is missing; reload the page and try again.")
        )

    @app.errorhandler(SecurityError)
    def _untrusted_host(err: SecurityError):
        # A Host not in TRUSTED_HOSTS: no URL can be built for it, so no page either; plain text.
        return Response(_("This server does not answer for that host name; open LabSafe at its public address."),
                        400, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        code = (err.name or "error").lower().replace(" ", "_")
        default = _HTTP_MESSAGES.get(status)
        message = (
            err.description if getattr(err, "labsafe_message", False) else (default() if default else err.description)
        )
        return error_response(status, code, message)

    @app.errorhandler(OperationalError)
    def _database_busy(err: OperationalError):
        if not _waited_out_a_lock(err):
            return _unexpected(err)
        db.session.rollback()
        # Another writer held the database past the wait (SQLite's busy_timeout, a PostgreSQL
        # deadlock or lock timeout): nothing of this request was stored, and trying again works.
        log.warning("database busy on %s %s: %s", request.method, request.path, err.orig)
        body, status = error_response(503, "busy", _("The server is busy; nothing was saved. Try again in a moment."))
        return body, status, {"Retry-After": "2"}

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "server_error", _HTTP_MESSAGES[500]())

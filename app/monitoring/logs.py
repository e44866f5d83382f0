"""Log lines as JSON (LABSAFE_LOG_FORMAT=json), each with the request id of the request it belongs to.

The id is kept in a context variable by the request middleware (instrument.py), so every logger's
lines (the audit log's, SQLAlchemy's, a service's) carry it without being handed it."""
from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("labsafe_request_id", default=None)

# The attributes every LogRecord has: anything else on a record came from `extra=` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, message, request_id when in a
    request, the `extra=` fields, and the traceback as `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            line["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def use_json_logs(level: int = logging.INFO) -> None:
    """Every logger's lines to stderr as JSON (gunicorn hands stderr to the journal)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for old in list(root.handlers):
        if getattr(old, "labsafe_json", False):
            root.removeHandler(old)
    handler.labsafe_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)

"""The audit log: authentication events and refused access, via logging ("labsafe.audit").

Each record carries the event, the user id, the client address and the path, both in the message
(for a plain log file) and as attributes ``audit_event``, ``audit_user_id``, ``audit_ip``,
``audit_path`` (for structured handlers).
"""
from __future__ import annotations

import logging

from flask import has_request_context, request

log = logging.getLogger("labsafe.audit")


def _current_user_id():
    from flask_login import current_user

    try:
        return current_user.id if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001  (no user loader context: log without the id)
        return None


def audit(event: str, *, user_id: int | None = None, level: int = logging.INFO, **fields) -> None:
    ip = path = method = None
    if has_request_context():
        ip, path, method = request.remote_addr, request.path, request.method
        if user_id is None:
            user_id = _current_user_id()
    extra_text = " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
    log.log(
        level,
        "%s user=%s ip=%s %s %s %s",
        event, user_id, ip, method, path, extra_text,
        extra={"audit_event": event, "audit_user_id": user_id, "audit_ip": ip, "audit_path": path,
               "audit_fields": fields},
    )

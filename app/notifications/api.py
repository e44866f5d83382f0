"""The in-app inbox as JSON."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required

from app.apidoc import doc

from . import services
from .schemas import NotificationQuerySchema, NotificationSchema

bp = Blueprint("notifications_api", __name__, url_prefix="/api")


def email_state(o) -> str | None:
    if o is None:
        return None
    if o.sent_at is not None:
        return "sent"
    return "failed" if o.last_error else "waiting"


def dump(notes, outbox) -> list[dict]:
    return NotificationSchema(many=True).dump([
        {**{c: getattr(n, c) for c in ("id", "kind", "title", "body", "link", "ticket_id", "lab_id", "created_at",
                                       "read_at")},
         "label": services.kind_label(n.kind), "email": email_state(outbox.get(n.id))}
        for n in notes
    ])


@bp.get("/notifications")
@login_required
@doc("My notifications, newest first (unread=1 for the unread only)", query=NotificationQuerySchema,
     response=NotificationSchema, many=True)
def notifications():
    q = NotificationQuerySchema().load(request.args)
    return dump(services.inbox(current_user, unread_only=q["unread"]), services.outbox_state(current_user))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
@doc("Mark one of my notifications read", response=NotificationSchema,
     responses={403: "The notification belongs to someone else"})
def read(notification_id: int):
    n = services.mark_read(current_user, notification_id)
    return dump([services.inbox_entry(n.id)], services.outbox_state(current_user))[0]

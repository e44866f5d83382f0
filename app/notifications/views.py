"""The inbox page."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from . import services
from .api import email_state

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def inbox():
    notes = services.inbox(current_user)
    outbox = services.outbox_state(current_user)
    return render_template("notifications/inbox.html", notes=notes, label=services.kind_label,
                           email_state=lambda n: email_state(outbox.get(n.id)))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    n = services.mark_read(current_user, notification_id)
    return redirect(n.link or url_for("notifications.inbox"))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    services.mark_all_read(current_user)
    return redirect(url_for("notifications.inbox"))

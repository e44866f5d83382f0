"""Ticket pages: the list (by state, level, overdue), a ticket with its timeline and action forms."""
from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.db import write_lock_at_first_write
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.photos.services import store_photo
from app.photos.signatures import SignatureSchema
from app.policy import Action, authorize
from app.timeutil import format_deadline

from . import labels, lifecycle, listing
from .schemas import TICKET_QUERY
from .serialize import ticket_detail, tickets_page, tickets_with_more

bp = Blueprint("tickets", __name__)


@bp.app_template_filter("school_time")
def school_time(value, fmt: str = "%Y-%m-%d %H:%M"):
    """A naive-UTC datetime (or ISO string from a schema) shown in the school's time zone."""
    if value is None:
        return ""
    if isinstance(value, str):

        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(current_app.config["SCHOOL_TIMEZONE"])).strftime(fmt)


@bp.app_template_filter("deadline_time")
def deadline_time(value) -> str:
    """A deadline in the school's time zone; one at midnight is the end of the day before
    ("2026-10-17 24:00", not "2026-10-18 00:00"): the nightly job sets deadlines at a day's end."""
    if value is None:
        return ""
    if isinstance(value, str):

        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return format_deadline(value, current_app.config["SCHOOL_TIMEZONE"])


@bp.app_template_filter("ticket_state")
def ticket_state(state) -> str:
    """A ticket's state as the reader reads it (labels.state_label), for pages outside the ticket list."""
    return labels.state_label(state)


@bp.app_template_global("lab_ticket_summary")
def lab_ticket_summary(lab_id: int) -> dict:
    """For the lab page: its unclosed tickets (if the reader may see tickets)."""
    return {"open": [t for t in tickets_page(current_user, lab_id=lab_id, limit=20) if t["state"] != "closed"]}


def _labels():
    return {"state": labels.state_label, "level": labels.level_label, "action": labels.action_label}


@bp.get("/tickets")
@login_required
def ticket_list():
    try:
        q = TICKET_QUERY.load(request.args)
    except ValidationError:
        q = TICKET_QUERY.load({})
    tickets, more = tickets_with_more(current_user, **q)
    return render_template("tickets/list.html", tickets=tickets, q=q, pages=_page_links(q, more),
                           counts=listing.counts_in_scope(current_user), labels=_labels())


def _page_links(q: dict, more: bool) -> dict:
    """The list's previous / next page URLs (None when there is none), keeping the filters that are set."""
    args = {k: v for k, v in q.items() if v and k not in ("limit", "offset")}
    if "overdue" in args:
        args["overdue"] = 1
    if q["limit"] != TICKET_QUERY.fields["limit"].load_default:
        args["limit"] = q["limit"]

    def at(offset: int) -> str:
        return url_for("tickets.ticket_list", **args, **({"offset": offset} if offset else {}))

    return {"prev": at(max(q["offset"] - q["limit"], 0)) if q["offset"] else None,
            "next": at(q["offset"] + q["limit"]) if more else None}


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket_page(ticket_id: int):
    t = lifecycle.get_ticket(ticket_id)
    authorize(current_user, Action.VIEW_TICKET, t)
    return render_template("tickets/ticket.html", t=ticket_detail(t, current_user), labels=_labels())


def _form_uuid(value: str | None) -> uuidlib.UUID | None:
    try:
        return uuidlib.UUID(value) if value else None
    except ValueError:
        return None  # a form from an older page, or tampered with: the action is simply not replay-safe


@bp.app_template_global()
def new_client_uuid() -> str:
    return str(uuidlib.uuid4())


def _form_signature() -> dict | None:
    """The reply slip's signature a form carries (the canvas's PNG, drawn in the page by signature.js), or
    None when nobody signed or refused. InvalidInput with the schema's message when it is not one."""
    f = request.form
    if not (f.get("signature_image") or f.get("signature_refused")):
        return None
    sent = {"name": f.get("signature_name", ""), "image": f.get("signature_image") or None,
            "signed_at": f.get("signature_signed_at") or None, "refused": bool(f.get("signature_refused")),
            "reason": f.get("signature_reason", "")}
    try:
        return SignatureSchema().load(sent)
    except ValidationError as err:
        messages = [m for ms in err.normalized_messages().values() for m in (ms if isinstance(ms, list) else [ms])]
        raise InvalidInput(" ".join(str(m) for m in messages), {"fields": {"signature": err.messages}}) from None


@bp.post("/tickets/<int:ticket_id>/actions")
# It may store after-photos: as the upload API, the store's lock before SQLite's write lock (never the
# other way round), and no write lock while photos decode; a stale action is settled by the version.
@write_lock_at_first_write
@login_required
def ticket_action(ticket_id: int):
    """The forms' handler: the same service as the API; after-photos may be uploaded right here."""
    t = lifecycle.get_ticket(ticket_id)
    authorize(current_user, Action.VIEW_TICKET, t)
    action = request.form.get("action", "")
    note = request.form.get("note", "")
    try:
        version = int(request.form.get("version") or 0) or None
    except ValueError:
        version = None
    photos = [p for p in request.form.getlist("photos") if p.strip()]
    files = [f for f in request.files.getlist("photo_files") if f and f.filename]
    # The form's UUID, made once when the page was drawn: a double click or a re-sent form is the
    # same action (answered as a replay), and its photos get the same UUIDs (stored once).
    client_uuid = _form_uuid(request.form.get("client_uuid"))
    try:
        signature = _form_signature()
        if files:
            # Check before storing, so a refused action leaves no stray photo behind.
            if action not in lifecycle.allowed_actions(current_user, t):
                lifecycle.perform_action(current_user, ticket_id, action, config=current_app.config, note=note,
                                         photos=photos, version=version,  # raises the precise refusal
                                         client_uuid=str(client_uuid) if client_uuid else None)  # or replays
            if action == "submit_fix" and not note.strip():
                raise InvalidInput(_("Describe what was done to fix the hazard."))
            for index, f in enumerate(files):
                photo_uuid = uuidlib.uuid5(client_uuid, str(index)) if client_uuid else uuidlib.uuid4()
                stored = store_photo(current_user, str(photo_uuid), f.read(), current_app.config)
                photos.append(stored.photo.uuid)
        lifecycle.perform_action(current_user, ticket_id, action, config=current_app.config, note=note,
                                 photos=photos, interim_measures=request.form.get("interim_measures", ""),
                                 version=version, client_uuid=str(client_uuid) if client_uuid else None,
                                 signature=signature)
    except DomainError as err:
        db.session.rollback()
        if err.status == 403:
            raise
        flash(err.message)
        return redirect(url_for("tickets.ticket_page", ticket_id=ticket_id)), 303
    flash(_("Done: %(action)s.", action=labels.action_label(action)))
    return redirect(url_for("tickets.ticket_page", ticket_id=ticket_id)), 303

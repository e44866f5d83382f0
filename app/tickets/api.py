"""Tickets JSON API (documented in /api/openapi.json)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from app.apidoc import doc
from app.jsonio import JsonLimit
from app.org.services import get_lab
from app.photos.signatures import SIGNATURE_DATA_URL_MAX
from app.policy import Action, authorize

from . import lifecycle
from .schemas import (
    TICKET_QUERY,
    TicketActionSchema,
    TicketDetailSchema,
    TicketQuerySchema,
    TicketSchema,
)
from .serialize import ticket_detail, tickets_with_more

bp = Blueprint("tickets_api", __name__, url_prefix="/api")


# Paging (limit default 50, offset): the body stays a JSON list; a next page is announced as RFC 8288
# `Link: </api/tickets?...&offset=N>; rel="next"` (absent on the last page). No X-Total-Count: it would
# cost a COUNT query per page, while fetching limit + 1 rows tells "there is more" for free.
_PAGING = " Pages of `limit` (default 50, max 500) from `offset`; when there is a next page, the response " \
          "has a `Link: <url>; rel=\"next\"` header (same filters, offset advanced)."


def _page(q: dict):
    """The JSON list of one page of tickets, with a Link rel=next header when more follow."""
    items, more = tickets_with_more(current_user, **q)
    resp = jsonify(items)
    if more:
        args = request.args.to_dict()  # the caller's filters as sent (lab_id from the path stays in the path)
        args["limit"], args["offset"] = q["limit"], q["offset"] + q["limit"]
        resp.headers["Link"] = f'<{request.path}?{urlencode(args)}>; rel="next"'
    return resp


@bp.get("/tickets")
@login_required
@doc("Tickets in the current user's scope (filters: state, level, overdue=1, lab_id)." + _PAGING,
     query=TicketQuerySchema, response=TicketSchema, many=True)
def tickets():
    return _page(TICKET_QUERY.load(request.args))


@bp.get("/labs/<int:lab_id>/tickets")
@login_required
@doc("One lab's tickets (filters: state, level, overdue=1)." + _PAGING,
     query=TicketQuerySchema, response=TicketSchema, many=True)
def lab_tickets(lab_id: int):
    lab = get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    q = TICKET_QUERY.load(request.args)
    q["lab_id"] = lab.id
    return _page(q)


@bp.get("/tickets/<int:ticket_id>")
@login_required
@doc("A ticket with its events (who, when, from, to, note, photos) and the actions open to you",
     response=TicketDetailSchema)
def ticket(ticket_id: int):
    t = lifecycle.get_ticket(ticket_id)
    authorize(current_user, Action.VIEW_TICKET, t)
    return ticket_detail(t, current_user)


# A note and interim measures of 5,000 characters each (4 bytes each at most), 20 photo UUIDs and the
# reply slip's signature (a data URL of at most 150 KB of PNG): larger is 413, a larger image alone 400.
ACTION_BODY = JsonLimit(max_bytes=64 * 1024 + SIGNATURE_DATA_URL_MAX, max_items=80)


@bp.post("/tickets/<int:ticket_id>/actions")
@login_required
@doc(
    "Move a ticket: start_fix, submit_fix (note + >=1 after-photo UUID, uploaded before or after), "
    "verify (note = proof; not by the fixer), reject (note = reason), declare_cannot_fix (interim_measures), "
    "escalate (note = reason). submit_fix and verify may carry the reply slip's signature (or a refusal "
    "with its reason).",
    request=TicketActionSchema, response=TicketDetailSchema, json_limit=ACTION_BODY,
    responses={
        400: "Missing note, photo, reason or interim measures; a photo uploaded by someone else; a signature "
             "that is not a sane PNG, or refused without a reason; or no CSRF token",
        413: "The body is too large (a signature's image of more than 150 KB)",
        403: "You may not do this to this ticket (wrong role or scope, or verifying your own fix)",
        409: "The ticket changed under you (stale version), the action is not possible in its state, "
             "or client_uuid was already used for a different action",
    },
)
def ticket_action(ticket_id: int):
    data = TicketActionSchema().load(request.get_json(silent=True) or {})
    t = lifecycle.perform_action(current_user, ticket_id, data["action"], config=current_app.config, note=data["note"],
                                 photos=data["photos"], interim_measures=data["interim_measures"],
                                 version=data["version"], client_uuid=data["client_uuid"],
                                 signature=data["signature"])
    return ticket_detail(t, current_user)

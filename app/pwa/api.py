"""PWA JSON API: the offline bundle and the lab card."""
from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user, login_required
from marshmallow import Schema, fields

from app.apidoc import doc
from app.org.services import get_lab
from app.policy import Action, authorize
from app.rounds.schemas import WorkRoundSchema

from . import services

bp = Blueprint("pwa_api", __name__, url_prefix="/api")


class BundleSchema(Schema):
    generated_at = fields.String(metadata={"description": "ISO 8601, UTC"})
    user_id = fields.Integer()
    user_name = fields.String(metadata={"description": "the user's name (prefills the inspector's signature)"})
    labs = fields.List(fields.Dict(), metadata={
        "description": "Labs the user may inspect or daily-check: nameplate (art. 24(1)), risk_level (I-IV or "
                       "null), qr_token, officers, open_tickets, daily_done_today (null unless the user is the lab's "
                       "officer), closed_until (the last day of today's closure, or null), daily_designees [{id, "
                       "user_id, name, until}] (art. 29), and "
                       "checklists [{key, kind, title, title_en, version_id, levels, item_ids}]"})
    checklist_versions = fields.Dict(
        metadata={"description": "version_id -> {key, kind, title, title_en, version_id, items}"}
    )
    rounds = fields.List(fields.Nested(WorkRoundSchema), metadata={
        "description": "my rounds not over yet, each with my labs still to do (GET /api/me/rounds)"})


@bp.get("/offline/bundle")
@login_required
@doc("What an offline inspector needs: labs with nameplate info, officers, open tickets and the "
     "checklists that apply to each", response=BundleSchema, tags=["pwa"])
def offline_bundle():
    resp = current_app.response_class(
        current_app.json.dumps(services.offline_bundle(current_user, current_app.config)),
        mimetype="application/json",
    )
    # Per user and changing: never in a shared cache; the app keeps its own copy (Cache Storage).
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


class LabCardSchema(Schema):
    lab = fields.Dict(metadata={"description": "The lab with its safety officers, as GET /api/labs/{lab_id}"})
    open_tickets = fields.List(fields.Dict(), metadata={
        "description": "The lab's open tickets the user may see, most urgent first, as GET /api/labs/{lab_id}/tickets "
                       "(at most 50)"})
    more_open_tickets = fields.Boolean(metadata={"description": "More open tickets than listed"})
    checklists = fields.List(fields.Dict(), metadata={
        "description": "The lists the user may run here, as GET /api/labs/{lab_id}/checklists"})
    daily_done_today = fields.Boolean(allow_none=True, metadata={
        "description": "Today's daily check is recorded (null unless the user is the lab's officer)"})
    closed_until = fields.Date(allow_none=True, metadata={
        "description": "The lab is closed today (holidays), until this day inclusive; null when open"})
    daily_designees = fields.List(fields.Dict(), metadata={
        "description": "Who the lab's officer designated for the daily check today (art. 29): "
                       "{id, user_id, name, until}"})


@bp.get("/labs/<int:lab_id>/card")
@login_required
@doc("The lab card in one answer: the lab, its open tickets and the checklists the user may run there",
     response=LabCardSchema, tags=["pwa"], responses={404: "No such lab"})
def lab_card(lab_id: int):
    lab = get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return services.lab_card(current_user, lab, current_app.config)

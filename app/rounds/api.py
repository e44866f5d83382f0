"""Rounds JSON API: plan, list, follow a round's labs, the inspector's work list, spot-check draws."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from app.apidoc import doc
from app.org.services import lab_filter
from app.policy import Action, authorize, may
from app.timeutil import utcnow

from . import services
from .schemas import (
    AssignedSchema,
    AssignmentsInSchema,
    DrawSchema,
    RoundInSchema,
    RoundLabsSchema,
    RoundSchema,
    WorkRoundSchema,
)

bp = Blueprint("rounds_api", __name__, url_prefix="/api")


@bp.post("/rounds")
@login_required
@doc("Plan a round: its kind, checklist, window, labs (or a spot-check draw) and inspectors",
     request=RoundInSchema, response=RoundSchema, status=201,
     responses={403: "You may not plan this round (art. 9, 27, 28)"})
def create():
    data = RoundInSchema().load(request.get_json(silent=True) or {})
    facts = services.plan_facts(data)
    authorize(current_user, Action.PLAN_ROUND, facts)
    r = services.create_round(current_user, data, facts, current_app.config)
    return RoundSchema().dump(services.round_summary(r, services.counts([r.id]).get(r.id), utcnow())), 201


@bp.get("/rounds")
@login_required
@doc("The rounds I may see, latest first, with planned / done / late", response=RoundSchema, many=True)
def index():
    return RoundSchema(many=True).dump(services.list_rounds(current_user))


def _viewable(round_id: int):
    r = services.get_round(round_id)
    now = utcnow()
    facts = services.facts_of(r, now)
    authorize(current_user, Action.VIEW_ROUND, facts)
    return r, facts, now


@bp.get("/rounds/<int:round_id>/labs")
@login_required
@doc("A round's labs with their state (done / pending / late) and who did each", response=RoundLabsSchema)
def labs(round_id: int):
    r, facts, now = _viewable(round_id)
    # Planners and the round's inspectors see all its labs; anyone else (a lab's officer) their own.
    whole = may(current_user, Action.PLAN_ROUND, facts) or current_user.id in facts.inspector_ids
    rows = services.round_labs(r, now, None if whole else lab_filter(current_user))
    figures = services.counts([r.id]).get(r.id)
    return RoundLabsSchema().dump({"round": services.round_summary(r, figures, now), "labs": rows})


@bp.patch("/rounds/<int:round_id>/assignments")
@login_required
@doc("Assign the round's labs to inspectors by hand (inspector_id null: unassign); recorded (art. 30)",
     request=AssignmentsInSchema, response=AssignedSchema)
def assign(round_id: int):
    r = services.get_round(round_id)
    authorize(current_user, Action.PLAN_ROUND, services.facts_of(r))
    data = AssignmentsInSchema().load(request.get_json(silent=True) or {})
    changed = services.set_assignments(current_user, r, data["assignments"])
    return AssignedSchema().dump({"changed": changed})


@bp.get("/rounds/<int:round_id>/draw")
@login_required
@doc("A spot check's draw (抽查, art. 28): its seed and population, and the draw redone from them",
     response=DrawSchema, responses={404: "The round was not drawn at random"})
def draw(round_id: int):
    r, _facts, _now = _viewable(round_id)
    return DrawSchema().dump(services.draw_record(r))


@bp.get("/me/rounds")
@login_required
@doc("My work list: my rounds not over yet, each with my labs still to do, by building and floor",
     response=WorkRoundSchema, many=True)
def my_rounds():
    authorize(current_user, Action.VIEW_WORK_LIST)
    return WorkRoundSchema(many=True).dump(services.work_list(current_user, utcnow()))

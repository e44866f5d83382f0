"""Organisation JSON API."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required
from marshmallow import Schema, fields, validate

from app.apidoc import doc
from app.jsonio import JsonLimit
from app.policy import Action, authorize

from . import risk, services
from .models import LabRef
from .schemas import (
    LabDetailSchema,
    LabRiskSchema,
    LabSchema,
    RiskAssessmentInSchema,
    RiskAssessmentSchema,
    lab_card,
    lab_risk_body,
)

bp = Blueprint("org_api", __name__, url_prefix="/api")


@bp.record_once
def _load_risk_rules(state):
    # The risk grading rules are read and validated when the app starts: a bad file stops the start.
    risk.init_app(state.app)


class LabQuerySchema(Schema):
    risk_level = fields.String(load_default=None, validate=validate.OneOf(services.RISK_FILTERS), metadata={
        "description": "Only labs of this risk grade (I, II, III, IV), not yet graded (none), or whose "
                       "hazards changed since their assessment (reassess)"})


_LAB_QUERY = LabQuerySchema()


# Schema instances are stateless for dump; built once (instantiating one costs ~0.1 ms per request).
_LAB_DETAIL = LabDetailSchema()


def _lab_body(lab):
    return _LAB_DETAIL.dump(lab)


@bp.get("/labs")
@login_required
@doc("Labs the current user may see (filter: risk_level)", query=LabQuerySchema, response=LabSchema, many=True)
def labs():
    q = _LAB_QUERY.load(request.args)
    return LabSchema(many=True).dump(services.labs_in_scope(current_user, risk_level=q["risk_level"]))


@bp.get("/labs/<int:lab_id>")
@login_required
@doc("One lab with its safety officers", response=LabDetailSchema)
def lab(lab_id: int):
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return _lab_body(lab)


@bp.get("/qr/<token>")
@login_required
@doc("Resolve a door QR token to its lab", response=LabDetailSchema, responses={410: "The code was replaced"})
def lab_by_token(token: str):
    # The hottest read (every door scan): rows, not entities (see services.lab_card_by_token).
    rows = services.lab_card_by_token(token)
    lab = rows[0]
    authorize(current_user, Action.VIEW_LAB, LabRef(lab.id, lab.college_id, lab.category, lab.hazard_tags))
    return lab_card(rows)


@bp.get("/labs/<int:lab_id>/risk")
@login_required
@doc("A lab's risk grade I-IV (MOE 2024 measures, 教科信〔2024〕4号), what it sets, the assessment's "
     "questions and every assessment so far (latest first)", response=LabRiskSchema, tags=["risk"])
def lab_risk(lab_id: int):
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return lab_risk_body(lab, services.risk_history(lab.id))


# Eight answers, a few bytes each.
RISK_BODY = JsonLimit(max_bytes=8 * 1024, max_items=64)


@bp.post("/labs/<int:lab_id>/risk-assessment")
@login_required
@doc("Assess a lab's risk: the answers grade it I-IV by the rules file; the grade, the rule that decided "
     "it and the answers are recorded (never deleted, art. 30), and the re-grade flag is cleared",
     request=RiskAssessmentInSchema, response=RiskAssessmentSchema, status=201, json_limit=RISK_BODY,
     tags=["risk"], responses={200: "The same client_uuid again: the assessment already recorded",
                               400: "An answer is missing, unknown or out of range", 403: "Not the school admin "
                               "or the leader of the lab's college", 404: "No such lab",
                               409: "client_uuid already used for other answers or another lab"})
def assess_lab_risk(lab_id: int):
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.ASSESS_LAB_RISK, lab)
    data = RiskAssessmentInSchema().load(request.get_json(silent=True) or {})
    client_uuid = str(data["client_uuid"]) if data["client_uuid"] else None
    record = services.assess_risk(lab, data["answers"], current_user.id, client_uuid)
    return RiskAssessmentSchema().dump(record), 200 if getattr(record, "replayed", False) else 201

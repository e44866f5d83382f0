"""Organisation JSON API."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from app.apidoc import doc
from app.policy import Action, authorize

from . import services
from .models import LabRef
from .schemas import LabDetailSchema, LabSchema, lab_card

bp = Blueprint("org_api", __name__, url_prefix="/api")


# Schema instances are stateless for dump; built once (instantiating one costs ~0.1 ms per request).
_LAB_DETAIL = LabDetailSchema()


def _lab_body(lab):
    return _LAB_DETAIL.dump(lab)


@bp.get("/labs")
@login_required
@doc("Labs the current user may see", response=LabSchema, many=True)
def labs():
    return LabSchema(many=True).dump(services.labs_in_scope(current_user))


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

"""Inspections JSON API: offline-safe submission and reading."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.apidoc import doc
from app.db import write_lock_at_first_write
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.jsonio import JsonLimit
from app.org.models import Lab
from app.org.services import get_lab
from app.policy import Action, authorize

from . import daily_checks, services
from .schemas import (
    InspectionInSchema,
    InspectionOutSchema,
    InspectionSummarySchema,
    LabInspectionsQuery,
    MissedCheckSchema,
    SubmitResultSchema,
)

bp = Blueprint("inspections_api", __name__, url_prefix="/api")

# Built once: a schema's construction (binding its fields) cost more than loading a submission's
# top level. Loading and dumping do not change a schema, so the instances are shared.
_SUBMISSION = InspectionInSchema()
_SUBMIT_RESULT = SubmitResultSchema()


# The largest inspection the shipped checklists allow (bench/request_bounds.py measures it): the
# full list as it applies to a chemistry lab with every hazard, 136 answers, each failed with a
# 4,000-character Chinese note and 20 photos, is 1.76 MB and 3,961 values and keys. A 60-item
# inspection with a few sentences per note is ~50 kB.
SUBMISSION_BODY = JsonLimit(max_bytes=2 * 1024 * 1024, max_items=10_000)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        from flask_babel import gettext as _

        raise InvalidInput(_("Send the inspection as a JSON object."))
    return body


@bp.post("/inspections")
@write_lock_at_first_write  # a twin submit is settled by the unique UUID, not by the lock
@login_required
@doc(
    "Submit a whole inspection (idempotent by the client's UUID), with the signatures given on the phone",
    request=InspectionInSchema,
    response=SubmitResultSchema,
    status=201,
    responses={
        200: "An identical inspection was already stored under this UUID (a replay); nothing new was created",
        403: "You may not record this level of inspection in this lab",
        409: "Another inspection was already stored under this UUID",
    },
    json_limit=SUBMISSION_BODY,
)
def submit():
    data = _SUBMISSION.load(_json_body())
    outcome = services.submit_inspection(current_user, data, current_app.config)
    body = _SUBMIT_RESULT.dump(
        {
            "id": outcome.id,
            "uuid": outcome.uuid,
            "complete": outcome.status.complete,
            "missing_photos": outcome.status.missing_photos,
            "ticket_ids": outcome.status.ticket_ids,
            "url": f"/inspections/{outcome.id}",
            "score": outcome.score,
            "grade": outcome.grade,
        }
    )
    return body, (201 if outcome.created else 200)


@bp.get("/inspections/<int:inspection_id>")
@login_required
@doc("One inspection: answers with the article and item text of its checklist version, and photos",
     response=InspectionOutSchema)
def detail(inspection_id: int):
    inspection = services.get_inspection(inspection_id)
    authorize(current_user, Action.VIEW_INSPECTION, inspection)
    return InspectionOutSchema().dump(services.inspection_detail(inspection, current_user))


@bp.get("/labs/<int:lab_id>/inspections")
@login_required
@doc("A lab's inspections, most recent first", query=LabInspectionsQuery, response=InspectionSummarySchema, many=True)
def lab_inspections(lab_id: int):
    lab = db.session.get(Lab, lab_id)
    if lab is None:
        raise NotFound(_("No such lab."))
    authorize(current_user, Action.VIEW_INSPECTION, lab)
    args = LabInspectionsQuery().load(request.args.to_dict())
    return InspectionSummarySchema(many=True).dump(services.lab_inspections(lab.id, args["limit"]))


@bp.get("/labs/<int:lab_id>/missed-checks")
@login_required
@doc("A lab's missed daily checks (art. 29), most recent first, as flagged by the nightly job",
     response=MissedCheckSchema, many=True)
def lab_missed_checks(lab_id: int):
    lab = get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return MissedCheckSchema(many=True).dump(daily_checks.missed_checks_for_lab(lab.id))

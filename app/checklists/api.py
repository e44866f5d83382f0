"""Checklists JSON API: what a user may run in a lab, and a version's items."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from app.apidoc import doc
from app.org import services as org_services
from app.policy import Action, authorize

from . import services
from .schemas import (
    AvailableChecklistSchema,
    ChecklistItemSchema,
    ChecklistVersionSchema,
    LabChecklistSchema,
    lab_checklist_header,
)

bp = Blueprint("checklists_api", __name__, url_prefix="/api")


def _version_body(version, items, schema=ChecklistVersionSchema):
    body = schema(exclude=("items",)).dump(version)
    body["items"] = ChecklistItemSchema(many=True).dump(items)
    return body


@bp.get("/labs/<int:lab_id>/checklists")
@login_required
@doc("Checklists the current user may run in this lab, with the levels for each",
     response=AvailableChecklistSchema, many=True, tags=["checklists"])
def lab_checklists(lab_id: int):
    lab = org_services.get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return AvailableChecklistSchema(many=True).dump(services.checklists_for_user_and_lab(current_user, lab))


@bp.get("/labs/<int:lab_id>/checklists/<key>")
@login_required
@doc("The current version of a list, filtered to the lab's category and hazards (art. 22)",
     response=LabChecklistSchema, tags=["checklists"],
     responses={404: "No such lab, or no list with this key in service"})
def lab_checklist(lab_id: int, key: str):
    # The lab as a row and the list's current version in one statement; the version's items come
    # from the per-process snapshot (versions are immutable).
    lab, served = services.lab_and_current_snapshot(lab_id, key)
    authorize(current_user, Action.VIEW_LAB, lab)
    snapshot = served()
    body = lab_checklist_header(snapshot)
    body["items"] = [snapshot.item_json[i.id] for i in services.snapshot_items_for_lab(snapshot, lab)]  # read-only
    body["levels"] = services.allowed_levels(current_user, lab, snapshot.kind)
    return body


@bp.get("/checklist-versions/<int:version_id>")
@login_required
@doc("One checklist version with all its items (old versions stay readable)",
     response=ChecklistVersionSchema, tags=["checklists"], responses={404: "No such version"})
def checklist_version(version_id: int):
    authorize(current_user, Action.VIEW_CHECKLISTS)
    version = services.get_version(version_id)
    return _version_body(version, version.items)

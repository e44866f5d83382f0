"""Roster JSON API: a lab's access roster (准入, art. 12-13), its changes, its import, and a finding
on the spot (art. 13(3)) that opens a rectification ticket."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.apidoc import doc
from app.db import write_lock_at_first_write
from app.errors import InvalidInput
from app.jsonio import JsonLimit
from app.policy import Action, authorize, may

from . import importing, services
from .schemas import (
    ROSTER_UPLOAD,
    EntryInSchema,
    EntryPatchSchema,
    EntrySchema,
    FindingInSchema,
    FindingSchema,
    ImportReportSchema,
    RevokeSchema,
    RosterQuerySchema,
    RosterSchema,
    SettingSchema,
)

bp = Blueprint("roster_api", __name__, url_prefix="/api")

SMALL_BODY = JsonLimit(max_bytes=16 * 1024, max_items=64)


def _lab(lab_id: int, action: Action):
    lab = services.get_lab(lab_id)
    authorize(current_user, action, lab)
    return lab


def roster_body(view: services.RosterView) -> dict:
    return RosterSchema().dump({
        "lab_id": view.lab.id, "training_required": view.training_required, "today": view.today,
        "entries": view.entries, "may_manage": may(current_user, Action.MANAGE_ROSTER, view.lab),
        "may_record_finding": may(current_user, Action.RECORD_ACCESS_FINDING, view.lab)})


def entry_body(entry) -> dict:
    config = current_app.config
    return EntrySchema().dump(services.row_of(entry, services.today(config), services.training_required(entry.lab_id)))


@bp.get("/labs/<int:lab_id>/roster")
@login_required
@doc("A lab's access roster (准入, art. 13) with each person's status today; q finds a name or staff number",
     query=RosterQuerySchema, response=RosterSchema)
def roster(lab_id: int):
    lab = _lab(lab_id, Action.VIEW_ROSTER)
    q = RosterQuerySchema().load(request.args)
    return roster_body(services.roster(lab, current_app.config, q=q["q"]))


@bp.post("/labs/<int:lab_id>/roster")
@login_required
@doc("Add a person to the lab's roster (the lab's officer); recorded (art. 30)", request=EntryInSchema,
     response=EntrySchema, status=201, json_limit=SMALL_BODY,
     responses={409: "The staff number is already on this lab's roster"})
def add(lab_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    data = EntryInSchema().load(request.get_json(silent=True) or {})
    return entry_body(services.add_entry(current_user, lab, data, current_app.config)), 201


@bp.patch("/labs/<int:lab_id>/roster/<int:entry_id>")
@login_required
@doc("Change a person's access (only the fields sent); each field's before and after is recorded",
     request=EntryPatchSchema, response=EntrySchema, json_limit=SMALL_BODY,
     responses={409: "Revoked, changed meanwhile (version), or the staff number is taken"})
def change(lab_id: int, entry_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    entry = services.get_entry(lab.id, entry_id)
    data = EntryPatchSchema().load(request.get_json(silent=True) or {})
    version = data.pop("version", None)
    return entry_body(services.update_entry(current_user, entry, data, version=version))


@bp.post("/labs/<int:lab_id>/roster/<int:entry_id>/revoke")
@login_required
@doc("Revoke a person's access: the row stays, marked revoked (art. 30)", request=RevokeSchema,
     response=EntrySchema, json_limit=SMALL_BODY, responses={409: "Already revoked"})
def revoke(lab_id: int, entry_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    entry = services.get_entry(lab.id, entry_id)
    data = RevokeSchema().load(request.get_json(silent=True) or {})
    return entry_body(services.revoke_entry(current_user, entry, data["reason"]))


@bp.put("/labs/<int:lab_id>/roster/settings")
@login_required
@doc("Whether the lab requires its own training before access (art. 13(2))", request=SettingSchema,
     response=SettingSchema, json_limit=SMALL_BODY, responses={409: "Changed at the same moment; nothing saved"})
def settings(lab_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    data = SettingSchema().load(request.get_json(silent=True) or {})
    return {"training_required": services.set_training_required(current_user, lab, data["training_required"])}


@bp.post("/labs/<int:lab_id>/roster/import")
# A file of a few thousand rows is read and checked before the first write.
@write_lock_at_first_write
@login_required
@doc("Import the exam system's export (CSV or XLSX) into the lab's roster: all or nothing, row-numbered errors",
     multipart=ROSTER_UPLOAD, response=ImportReportSchema,
     responses={400: "The file was refused whole: details.errors lists each row's problems",
                409: "The roster changed at the same moment; nothing was imported",
                413: "The file is too large", 415: "Not CSV or XLSX (an old .xls)"})
def import_file(lab_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput(_("Choose a CSV or XLSX file to upload."))
    data = upload.read(importing.MAX_BYTES + 1)
    report = importing.import_roster(current_user, lab, data, upload.filename, current_app.config)
    return ImportReportSchema().dump(report.as_dict())


@bp.post("/labs/<int:lab_id>/roster/findings")
@login_required
@doc("An inspector records a person working without valid access (art. 13(3)): a rectification ticket for "
     "the lab's officers. Idempotent by client_uuid (the outbox may send it twice)",
     request=FindingInSchema, response=FindingSchema, status=201, json_limit=SMALL_BODY,
     responses={200: "A replay: the finding with this client_uuid was already recorded",
                409: "The person's access is valid today, or the client_uuid is another finding's"})
def finding(lab_id: int):
    lab = _lab(lab_id, Action.RECORD_ACCESS_FINDING)
    data = FindingInSchema().load(request.get_json(silent=True) or {})
    result = services.record_finding(current_user, lab, data, current_app.config)
    return FindingSchema().dump(result.finding), 201 if result.created else 200

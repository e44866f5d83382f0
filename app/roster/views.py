"""Roster pages (准入, art. 12-13): a lab's access list for its readers; its officer adds, changes,
revokes and imports there, and sets whether the lab requires its own training. The same services and
policy as the JSON API (api.py); every change is recorded (art. 30) and shown in the page's history."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.db import write_lock_at_first_write
from app.errors import DomainError
from app.org.admin import refused
from app.policy import Action, authorize, may

from . import importing, labels, services
from .schemas import EntryInSchema, EntryPatchSchema

bp = Blueprint("roster", __name__)

_OPTIONAL = ("email", "exam_date", "exam_score", "training_date", "valid_until")


def _entry_form(schema) -> dict:
    """The form's fields as the API's body: blank optional fields are none, the checkbox a boolean."""
    data = {k: v.strip() for k, v in request.form.items() if k in schema.fields and k != "csrf_token"}
    for k in _OPTIONAL:
        if k in data and data[k] == "":
            data[k] = "" if k == "email" else None
    data["exam_passed"] = request.form.get("exam_passed") in ("1", "on", "yes", "true")
    if data.get("exam_score") is not None:
        try:
            data["exam_score"] = int(data["exam_score"])
        except ValueError:
            pass  # the schema says why
    if "version" in data:
        data["version"] = int(data["version"]) if data["version"].isdigit() else None
    return schema.load(data)


def _page(lab, *, error=None, fields=None, errors=(), report=None, form=None, status=200):
    config = current_app.config
    view = services.roster(lab, config, q=request.args.get("q") or None)
    manage = may(current_user, Action.MANAGE_ROSTER, lab)
    return render_template("roster/roster.html", lab=lab, view=view, manage=manage,
                           history=services.history(lab), labels=labels, error=error, fields=fields or {},
                           errors=errors, report=report, form=form or {}, q=request.args.get("q", ""),
                           max_rows=importing.MAX_ROWS, columns=importing.REQUIRED + importing.OPTIONAL,
                           valid_months=services.valid_months(config)), status


def _values(entry) -> dict:
    """An entry's fields as the form shows them."""
    values = {}
    for f in services.FIELDS:
        x = getattr(entry, f)
        if x is None:
            x = ""
        values[f] = x.isoformat() if hasattr(x, "isoformat") else x
    return values


def _lab(lab_id: int, action: Action):
    lab = services.get_lab(lab_id)
    authorize(current_user, action, lab)
    return lab


@bp.get("/labs/<int:lab_id>/roster")
@login_required
def roster_page(lab_id: int):
    return _page(_lab(lab_id, Action.VIEW_ROSTER))


@bp.post("/labs/<int:lab_id>/roster")
@login_required
def add(lab_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    try:
        entry = services.add_entry(current_user, lab, _entry_form(EntryInSchema()), current_app.config)
    except (ValidationError, DomainError) as err:
        error, status, fields = refused(err)
        return _page(lab, error=error, fields=fields, form=request.form, status=status)
    flash(_("%(name)s was added to the roster.", name=entry.name))
    return redirect(url_for(".roster_page", lab_id=lab.id))


@bp.get("/labs/<int:lab_id>/roster/<int:entry_id>")
@login_required
def entry_page(lab_id: int, entry_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    entry = services.get_entry(lab.id, entry_id)
    return render_template("roster/entry.html", lab=lab, entry=entry, values=_values(entry), error=None, fields={},
                           labels=labels)


@bp.post("/labs/<int:lab_id>/roster/<int:entry_id>")
@login_required
def change(lab_id: int, entry_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    entry = services.get_entry(lab.id, entry_id)
    try:
        data = _entry_form(EntryPatchSchema())
        version = data.pop("version", None)
        services.update_entry(current_user, entry, data, version=version)
    except (ValidationError, DomainError) as err:
        error, status, fields = refused(err)
        entry = services.get_entry(lab.id, entry_id)
        return render_template("roster/entry.html", lab=lab, entry=entry, values=request.form, error=error,
                               fields=fields, labels=labels), status
    flash(_("The entry was saved."))
    return redirect(url_for(".roster_page", lab_id=lab.id))


@bp.post("/labs/<int:lab_id>/roster/<int:entry_id>/revoke")
@login_required
def revoke(lab_id: int, entry_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    try:
        entry = services.revoke_entry(current_user, services.get_entry(lab.id, entry_id),
                                      (request.form.get("reason") or "")[:500])
    except DomainError as err:
        error, status, fields = refused(err)
        return _page(lab, error=error, fields=fields, status=status)
    flash(_("The access of %(name)s was revoked.", name=entry.name))
    return redirect(url_for(".roster_page", lab_id=lab.id))


@bp.post("/labs/<int:lab_id>/roster/settings")
@login_required
def settings(lab_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    services.set_training_required(current_user, lab, request.form.get("training_required") in ("1", "on"))
    flash(_("The lab's training requirement was saved."))
    return redirect(url_for(".roster_page", lab_id=lab.id))


@bp.post("/labs/<int:lab_id>/roster/import")
# The whole file is read and checked before the first write.
@write_lock_at_first_write
@login_required
def import_file(lab_id: int):
    lab = _lab(lab_id, Action.MANAGE_ROSTER)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(lab, error=_("Choose a CSV or XLSX file to upload."), status=400)
    try:
        report = importing.import_roster(current_user, lab, upload.read(importing.MAX_BYTES + 1), upload.filename,
                                         current_app.config)
    except DomainError as err:
        error, status, _fields = refused(err)
        return _page(lab, error=error, errors=err.details.get("errors", []), status=status)
    return _page(lab, report=report)

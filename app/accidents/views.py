"""Accident pages: the list (with the art. 5 veto per college this year), the web report form, an
accident's page with the school's grade form, the report forms and closing. Same services as api.py."""
from __future__ import annotations

import uuid as uuidlib
from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.auth.services import get_user
from app.errors import DomainError, NotFound
from app.org.admin import refused  # the admin forms' way of saying why a form was refused
from app.org.services import colleges as list_colleges
from app.org.services import find_lab_by_code
from app.photos.services import urls_for
from app.policy import Action, authorize, may
from app.timeutil import school_today, school_tz

from . import labels, services
from .models import AccidentGrade, EnvironmentDamage, ReportKind, StabilityHarm
from .schemas import AccidentInSchema, CloseInSchema, GradeInSchema, ReportInSchema

bp = Blueprint("accidents", __name__)

COUNT_FIELDS = ("deaths", "serious_injuries", "light_injuries", "property_loss_yuan")
TEXT_FIELDS = ("place", "description", "environment_note", "stability_note", "first_measures")


@bp.get("/accidents")
@login_required
def index():
    authorize(current_user, Action.VIEW_ACCIDENT)
    tz = current_app.config["SCHOOL_TIMEZONE"]
    year = school_today(tz).year
    rows = services.list_accidents(current_user, tz=tz, limit=200)
    colleges = {c.id: c for c in list_colleges()}
    veto = services.vetoed_colleges(year, tz)
    veto = {cid: n for cid, n in veto.items() if may(current_user, Action.VIEW_COLLEGE_REPORT, colleges.get(cid))}
    return render_template("accidents/list.html", rows=rows, colleges=colleges, veto=veto, year=year, labels=labels,
                           may_report=may(current_user, Action.REPORT_ACCIDENT))


def _form_page(form=None, error=None, fields_=None, status=200):
    form = form or {"client_uuid": str(uuidlib.uuid4()), "lab_code": request.args.get("lab", "")}
    return render_template("accidents/new.html", form=form, error=error, fields=fields_ or {}, labels=labels,
                           environments=[e.value for e in EnvironmentDamage],
                           stabilities=[s.value for s in StabilityHarm]), status


@bp.get("/accidents/new")
@login_required
def new():
    authorize(current_user, Action.REPORT_ACCIDENT)
    return _form_page()


@bp.get("/app/accidents/new")
@login_required
def app_new():
    """The phone's report (a shell, no lab data: the service worker serves it offline; static/js/accident.js)."""
    authorize(current_user, Action.REPORT_ACCIDENT)
    return render_template("pwa/accident.html", labels=labels, environments=[e.value for e in EnvironmentDamage],
                           stabilities=[s.value for s in StabilityHarm])


def _body(form) -> dict:
    """The page's flat form as the API's body (AccidentInSchema validates both the same way)."""
    body: dict = {"client_uuid": form.get("client_uuid", ""), "environment": form.get("environment") or "none",
                  "stability": form.get("stability") or "none"}
    for f in TEXT_FIELDS:
        body[f] = form.get(f, "")
    for f in COUNT_FIELDS:
        value = (form.get(f) or "0").strip()
        body[f] = int(value) if value.isdigit() else value
    when = (form.get("occurred_at") or "").strip()
    try:  # a datetime-local field: the school's time
        body["occurred_at"] = datetime.fromisoformat(when).replace(
            tzinfo=school_tz(current_app.config["SCHOOL_TIMEZONE"])).isoformat()
    except ValueError:
        body["occurred_at"] = when
    return body


@bp.post("/accidents/new")
@login_required
def create():
    authorize(current_user, Action.REPORT_ACCIDENT)
    # Scene photos (art. 31): the request's size is bounded by MAX_CONTENT_LENGTH, their number by the schema.
    files = [f.read() for f in request.files.getlist("photos") if f and f.filename]
    if files:
        authorize(current_user, Action.UPLOAD_PHOTO)
    try:
        lab = find_lab_by_code(request.form.get("lab_code", ""))
        if lab is None:
            raise NotFound(_("No lab has this code."))
        body = _body(request.form)
        body["lab_id"] = lab.id
        body["photos"] = services.form_photo_uuids(body["client_uuid"], len(files))
        data = AccidentInSchema().load(body)
        authorize(current_user, Action.REPORT_ACCIDENT, lab)
        a, _created = services.report_accident(current_user, lab, data, current_app.config)
    except (ValidationError, DomainError) as err:
        error, status, fields_ = refused(err)
        return _form_page(dict(request.form), error, fields_, status)
    flash(_("Accident reported: the lab, the college and the school have been told."))
    # Report first, evidence after: a photo refused (not an image, the store down) leaves the report in.
    for reason in services.store_form_photos(current_user, data["photos"], files, current_app.config):
        flash(_("A photo could not be stored: %(reason)s", reason=reason), "error")
    return redirect(url_for(".accident", accident_id=a.id))


def _page(a, error=None, status=200):
    reports = services.reports_of(a.id)
    events = services.events_of(a.id)
    people = {uid: get_user(uid) for uid in {a.reported_by_id, *(e.actor_id for e in events),
                                             *(r.filed_by_id for r in reports.values())}}
    return render_template(
        "accidents/accident.html", a=a, labels=labels, filed=reports, events=events, people=people,
        photos=[{"uuid": u, **urls_for(u)} for u in services.photos_of(a.id)], overdue=services.is_overdue(a),
        steps=services.next_steps(a), grades=[g.value for g in AccidentGrade], error=error,
        may_grade=may(current_user, Action.CONFIRM_ACCIDENT_GRADE, a),
        may_unit=may(current_user, Action.FILE_ACCIDENT_UNIT_REPORT, a),
        may_investigate=may(current_user, Action.INVESTIGATE_ACCIDENT, a),
        may_close=may(current_user, Action.CLOSE_ACCIDENT, a)), status


@bp.get("/accidents/<int:accident_id>")
@login_required
def accident(accident_id: int):
    a = services.get_accident(accident_id)
    authorize(current_user, Action.VIEW_ACCIDENT, a)
    return _page(a)


def _act(a, do):
    try:
        do()
    except (ValidationError, DomainError) as err:
        error, status, _fields = refused(err)
        return _page(a, error, status)
    return redirect(url_for(".accident", accident_id=a.id))


@bp.post("/accidents/<int:accident_id>/grade")
@login_required
def grade(accident_id: int):
    a = services.get_accident(accident_id)
    authorize(current_user, Action.CONFIRM_ACCIDENT_GRADE, a)

    def do():
        data = GradeInSchema().load({"grade": request.form.get("grade", ""), "reason": request.form.get("reason", "")})
        services.confirm_grade(current_user, a, data["grade"], data["reason"])
    return _act(a, do)


@bp.post("/accidents/<int:accident_id>/reports/<kind>")
@login_required
def file_report(accident_id: int, kind: str):
    try:
        report_kind = ReportKind(kind)
    except ValueError:
        raise NotFound(_("No such report.")) from None
    a = services.get_accident(accident_id)
    action = Action.FILE_ACCIDENT_UNIT_REPORT if report_kind == ReportKind.unit else Action.INVESTIGATE_ACCIDENT
    authorize(current_user, action, a)
    fields_ = ("summary", "causes", "nature", "responsibility", "measures", "proposals")
    return _act(a, lambda: services.file_report(
        current_user, a, report_kind, ReportInSchema().load({f: request.form.get(f, "") for f in fields_})))


@bp.post("/accidents/<int:accident_id>/close")
@login_required
def close(accident_id: int):
    a = services.get_accident(accident_id)
    authorize(current_user, Action.CLOSE_ACCIDENT, a)
    return _act(a, lambda: services.close(current_user, a, CloseInSchema().load(
        {"note": request.form.get("note", "")})["note"]))

"""Pages of holiday closures in bulk (the school office, college leaders) and of a lab's daily-check
designees (the lab's officer, art. 29). The rules are in closures.py and designees.py."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError, fields, validate

from app.auth.services import lab_officer_contacts
from app.errors import DomainError
from app.policy import Action, authorize, may
from app.timeutil import school_today, utcnow

from . import closures, designees, services
from .admin import form_data, refused
from .closures_api import DAYS, ID
from .labels import CATEGORY_LABELS
from .models import LabCategory
from .schemas import _Form

bp = Blueprint("closures", __name__)


class CloseForm(_Form):
    college_id = fields.Integer(load_default=None, validate=ID)
    building = fields.String(load_default=None, validate=validate.Length(max=100))
    category = fields.String(load_default=None)
    lab_codes = fields.String(load_default="")
    start_date = fields.Date(required=True, validate=DAYS)
    end_date = fields.Date(required=True, validate=DAYS)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DesignateForm(_Form):
    user_id = fields.Integer(required=True, validate=ID)
    start_date = fields.Date(load_default=None, validate=DAYS)
    end_date = fields.Date(load_default=None, validate=DAYS)


def _today():
    return school_today(current_app.config["SCHOOL_TIMEZONE"])


def _page(error=None, fields_=None, form=None, status=200):
    today = _today()
    return render_template(
        "org/closures.html", batches=closures.batches(current_user, limit=100), today=today,
        colleges=closures.colleges_in_reach(current_user),
        categories=[(c.value, CATEGORY_LABELS[c]) for c in LabCategory],
        error=error, fields=fields_ or {}, form=form or {},
    ), status


@bp.get("/closures")
@login_required
def closures_page():
    authorize(current_user, Action.CLOSE_LABS)
    return _page()


@bp.post("/closures")
@login_required
def close_labs():
    authorize(current_user, Action.CLOSE_LABS)
    try:
        data = CloseForm().load(form_data())
        codes = [c for c in re.split(r"[\s,;，；]+", data["lab_codes"]) if c]
        batch, already = closures.close_labs(
            current_user, start=data["start_date"], end=data["end_date"], reason=data["reason"], now=utcnow(),
            college_id=data["college_id"], building=data["building"], category=data["category"],
            lab_ids=closures.lab_ids_by_codes(codes) or None,
        )
    except (ValidationError, DomainError) as err:
        error, status, fields_ = refused(err)
        return _page(error, fields_, dict(request.form), status)
    flash(_("%(n)d labs closed (%(already)d were already closed).", n=batch.lab_count, already=already))
    return redirect(url_for(".closures_page"))


@bp.post("/closures/<int:batch_id>/reopen")
@login_required
def reopen(batch_id: int):
    authorize(current_user, Action.CLOSE_LABS)
    try:
        n = closures.reopen(current_user, batch_id, on_day=_today(), now=utcnow())
    except DomainError as err:
        error, status, fields_ = refused(err)
        return _page(error, fields_, None, status)
    flash(_("Reopened today: %(n)d labs.", n=n))
    return redirect(url_for(".closures_page"))


# ---- daily-check designees (a section of the lab page) -----------------------------------------

@bp.app_template_global("daily_designee_section")
def daily_designee_section(lab):
    """What the lab page's designee section shows (templates/org/_designees.html)."""
    closed_until, standing = designees.day_status([lab.id], _today()).get(lab.id, (None, []))
    can_edit = may(current_user, Action.DESIGNATE_DAILY_CHECK, lab)
    return {"standing": standing, "can_edit": can_edit, "closed_until": closed_until,
            "candidates": designees.candidates(lab) if can_edit else []}


@bp.post("/labs/<int:lab_id>/designees")
@login_required
def designate(lab_id: int):
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.DESIGNATE_DAILY_CHECK, lab)
    try:
        data = DesignateForm().load(form_data())
        designees.designate(lab, user_id=data["user_id"], start=data["start_date"], end=data["end_date"],
                            by_user_id=current_user.id, now=utcnow())
    except (ValidationError, DomainError) as err:
        error, status, fields_ = refused(err)
        return render_template("org/lab.html", lab=services.get_lab(lab_id), officers=lab_officer_contacts(lab_id),
                               designee_error=error, designee_fields=fields_), status
    flash(_("Designee named for the daily check."))
    return redirect(url_for("org.lab_page", lab_id=lab_id))


@bp.post("/designees/<int:designation_id>/revoke")
@login_required
def revoke(designation_id: int):
    row = designees.get_designation(designation_id)
    authorize(current_user, Action.DESIGNATE_DAILY_CHECK, row)
    try:
        designees.revoke(row, by_user_id=current_user.id, now=utcnow())
    except DomainError as err:
        flash(err.message)
    else:
        flash(_("Designation revoked."))
    return redirect(url_for("org.lab_page", lab_id=row.lab_id))

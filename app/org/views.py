"""Organisation pages: home, a lab's page, and the door QR entry point /l/<token>."""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.services import get_user, lab_officer_contacts
from app.auth.views import landing_url
from app.errors import Conflict, DomainError
from app.extensions import db
from app.policy import Action, authorize, may

from . import labels, risk, services

bp = Blueprint("org", __name__)
bp.add_app_template_filter(risk.level_label, "risk_label")  # "Ⅰ级 · 红 · 重大风险"


@bp.app_template_filter("category_label")
def _category_label(value):
    return labels.category_label(value)


@bp.app_template_filter("hazard_label")
def _hazard_label(value):
    return labels.hazard_label(value)


@bp.app_template_filter("kind_label")
def _kind_label(value):
    return labels.kind_label(value)


@bp.get("/")
@login_required
def home():
    """The start page is where the user's daily work is (their role's landing page)."""

    return redirect(landing_url(current_user))


@bp.get("/l/<token>")
def lab_by_qr(token: str):
    """Scanning the door plate lands here (login first if needed, then back here)."""
    try:
        lab = services.lab_ref_by_token(token)  # a row, not the entity: every door scan lands here
    except DomainError as err:
        return render_template("org/qr_invalid.html", message=err.message, status=err.status), err.status
    # The phone's own camera app opens this URL: land in the PWA's lab card when it exists.
    from flask import current_app

    if not current_user.is_authenticated:
        # Without an account: the hazard report form at the door, where the school allows it (issue 24).
        if current_app.config.get("HAZARD_ANONYMOUS_REPORTS") and "hazards.door_report" in current_app.view_functions:
            return redirect(url_for("hazards.door_report", token=token))
        return redirect(url_for("auth.login", next=url_for("org.lab_by_qr", token=token)))
    endpoint = "pwa.lab_card" if "pwa.lab_card" in current_app.view_functions else "org.lab_page"
    # Anyone signed in may report a hazard from the lab's card (art. 30, issue 24), who may not see the lab too.
    if not (endpoint == "pwa.lab_card" and may(current_user, Action.REPORT_HAZARD, lab)):
        authorize(current_user, Action.VIEW_LAB, lab)
    return redirect(url_for(endpoint, lab_id=lab.id))


@bp.get("/labs/<int:lab_id>")
@login_required
def lab_page(lab_id: int):
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return render_template("org/lab.html", lab=lab, officers=lab_officer_contacts(lab.id))


@bp.route("/labs/<int:lab_id>/risk", methods=["GET", "POST"])
@login_required
def lab_risk(lab_id: int):
    """The lab's risk grade I-IV (MOE 2024 measures): the short assessment (school admin, the college's
    leader), the grade with its reason, when and by whom, the re-grade flag and every past assessment."""
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    error, status, fields = None, 200, {}
    answers = dict(lab.risk_answers or {})
    if request.method == "POST":
        authorize(current_user, Action.ASSESS_LAB_RISK, lab)
        answers = {k: v for k, v in request.form.items() if k not in ("csrf_token", "client_uuid")}
        try:
            try:
                services.assess_risk(lab, answers, current_user.id, _form_uuid(request.form.get("client_uuid")))
            except Conflict:
                # The form was sent before with other answers (back button, edited, sent again): this is
                # another assessment, not a replay.
                db.session.rollback()
                services.assess_risk(lab, answers, current_user.id)
            flash(_("Assessed: %(grade)s.", grade=risk.level_label(lab.risk_level)))
            return redirect(url_for(".lab_risk", lab_id=lab.id))
        except DomainError as err:
            db.session.rollback()
            error, status = err.message, err.status
            fields = dict(err.details.get("fields", {}))
            lab = services.get_lab(lab_id)
    history = services.risk_history(lab.id)
    assessors = {uid: get_user(uid).name for uid in {a.assessed_by_id for a in history} if uid}
    rules = risk.rules()
    return render_template(
        "org/risk.html", lab=lab, history=history, assessors=assessors, rules=rules, answers=answers,
        cadence=rules.cadence(lab.risk_level), checklist_keys=rules.checklist_keys(lab.risk_level),
        may_assess=may(current_user, Action.ASSESS_LAB_RISK, lab), error=error, fields=fields,
        # A refused form keeps its UUID (the corrected resubmit is the same assessment); a fresh one gets one.
        client_uuid=request.form.get("client_uuid") if status == 400 else str(uuid.uuid4()),
    ), status


def _form_uuid(value) -> str | None:
    """The form's one-off UUID (a double submit of one form records one assessment); anything else: none."""
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None

"""Inspection pages: one inspection with its answers and photos; the lab page's inspections."""
from __future__ import annotations

import base64

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.org.services import get_lab
from app.policy import Action, authorize, may

from . import daily_checks, services

bp = Blueprint("inspections", __name__)

LEVEL_NAMES = {
    "daily": _l("Daily check"),  # art. 29
    "college": _l("College monthly inspection"),  # art. 28
    "school": _l("School inspection"),  # art. 27
    "special": _l("Special inspection"),  # art. 27
}
RESULT_NAMES = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("N/A")}
# What each grade means (scoring.py; bands in config.GRADE_BANDS).
GRADE_NAMES = {
    "A": _l("Pass"),
    "B": _l("Pass after rectification"),
    "C": _l("Re-check on site"),
    "D": _l("Fail"),
}


@bp.app_context_processor
def _names():
    return {
        "inspection_level_names": LEVEL_NAMES,
        "inspection_result_names": RESULT_NAMES,
        "inspection_grade_names": GRADE_NAMES,
    }


@bp.get("/inspections/<int:inspection_id>")
@login_required
def inspection_page(inspection_id: int):
    inspection = services.get_inspection(inspection_id)
    authorize(current_user, Action.VIEW_INSPECTION, inspection)
    detail = services.inspection_detail(inspection, current_user)
    # The signatures given on the phone, drawn as the record draws them (data: images; CSP allows them).
    drawn = {s.role.value: "data:image/png;base64," + base64.b64encode(s.png).decode()
             for s in services.signatures_of(inspection.id) if s.png}
    return render_template("inspections/inspection.html", inspection=inspection, d=detail, signature_images=drawn)


@bp.app_template_global("lab_inspection_sections")
def lab_inspection_sections(lab) -> dict:
    """For templates/org/lab.html: the lab's recent inspections, if this user may see them (the org
    page includes inspections/_lab_sections.html; its open tickets are the tickets domain's card)."""
    out = {"inspections": [], "show_inspections": False}
    if may(current_user, Action.VIEW_INSPECTION, lab):
        out["show_inspections"] = True
        out["inspections"] = services.lab_inspections(lab.id, limit=20)
    return out


@bp.app_template_global("lab_missed_checks")
def lab_missed_checks(lab_id: int) -> list:
    """For the lab page: its most recent standing missed daily checks (at most 7)."""
    return daily_checks.missed_checks_for_lab(lab_id, limit=7, standing_only=True)


@bp.get("/labs/<int:lab_id>/missed-checks")
@login_required
def missed_checks(lab_id: int):
    lab = get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return render_template("inspections/missed_checks.html", lab=lab,
                           days=daily_checks.missed_checks_for_lab(lab.id))

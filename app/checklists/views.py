"""Checklist pages: the lists with their versions, and one version's items by article."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.policy import Action, authorize, may

from . import services

bp = Blueprint("checklists", __name__)

KIND_LABELS = {
    "daily": _l("Daily check (art. 29)"),
    "full": _l("Full list: college monthly (art. 28) and school semester (art. 27) checks"),
    "special": _l("Special check (art. 27)"),
}
CATEGORY_LABELS = {
    "chemistry": _l("Chemistry"),
    "biology": _l("Biology"),
    "physics": _l("Physics / electrical"),
    "mechanical": _l("Mechanical / special equipment"),
    "general": _l("General / computer"),
}
HAZARD_LABELS = {
    "hazardous_chemicals": _l("Hazardous chemicals"),
    "highly_toxic": _l("Highly toxic"),
    "precursor": _l("Drug precursor"),
    "explosive_precursor": _l("Explosive precursor"),
    "pathogens": _l("Pathogens"),
    "lab_animals": _l("Lab animals"),
    "special_equipment": _l("Special equipment"),
    "high_voltage": _l("High voltage"),
    "lasers": _l("Lasers"),
    "radiation": _l("Radiation"),
    "gas_cylinders": _l("Gas cylinders"),
}
DEPARTMENT_LABELS = {
    "lab_management": _l("Lab management office"),
    "security": _l("Security office"),
    "assets": _l("Assets and logistics office"),
}


def _labels():
    return dict(kind_labels=KIND_LABELS, category_labels=CATEGORY_LABELS, hazard_labels=HAZARD_LABELS,
                department_labels=DEPARTMENT_LABELS)


@bp.get("/checklists")
@login_required
def index():
    authorize(current_user, Action.VIEW_CHECKLISTS)
    return render_template(
        "checklists/index.html",
        checklists=services.all_checklists(),
        show_source=may(current_user, Action.MANAGE_CHECKLISTS),
        **_labels(),
    )


@bp.get("/checklists/versions/<int:version_id>")
@login_required
def version(version_id: int):
    authorize(current_user, Action.VIEW_CHECKLISTS)
    v = services.get_version(version_id)
    return render_template(
        "checklists/version.html",
        version=v,
        groups=services.grouped_by_article(v.items),
        department_for=services.department_for,
        show_source=may(current_user, Action.MANAGE_CHECKLISTS),
        **_labels(),
    )

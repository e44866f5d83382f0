"""Inspection pages: one inspection with its answers and photos; the lab page's sections."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from app.org.services import get_lab
from app.policy import Action, authorize, may
from app.tickets.labels import reader_title
from app.tickets.listing import open_tickets_for_lab

from . import daily_checks, services

bp = Blueprint("inspections", __name__)

LEVEL_NAMES = {
    "daily": _l("Daily check"),  # art. 29
    "college": _l("College monthly inspection"),  # art. 28
    "school": _l("School inspection"),  # art. 27
    "special": _l("Special inspection"),  # art. 27
}
RESULT_NAMES = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("N/A")}
# Ticket states as the lab page shows them (the tickets domain owns the lifecycle).
TICKET_STATE_NAMES = {
    "open": _l("Awaiting rectification"),
    "fixing": _l("Being rectified"),
    "fix_submitted": _l("Fix awaiting verification"),
    "closed": _l("Closed"),
}


@bp.app_template_filter("insp_time")
def insp_time(value) -> str:
    """A stored UTC time shown in the school's time zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(current_app.config["SCHOOL_TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


@bp.app_context_processor
def _names():
    return {
        "inspection_level_names": LEVEL_NAMES,
        "inspection_result_names": RESULT_NAMES,
        "inspection_ticket_state_names": TICKET_STATE_NAMES,
    }


@bp.get("/inspections/<int:inspection_id>")
@login_required
def inspection_page(inspection_id: int):
    inspection = services.get_inspection(inspection_id)
    authorize(current_user, Action.VIEW_INSPECTION, inspection)
    detail = services.inspection_detail(inspection, current_user)
    return render_template("inspections/inspection.html", inspection=inspection, d=detail)


def _ticket_url(ticket_id: int) -> str | None:
    """The tickets domain's page for a ticket, when that domain serves one."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/tickets/<") and rule.rule.count("<") == 1 and "GET" in rule.methods:
            try:
                return url_for(rule.endpoint, **{next(iter(rule.arguments)): ticket_id})
            except BuildError:  # pragma: no cover
                return None
    return None


@bp.app_template_global("lab_inspection_sections")
def lab_inspection_sections(lab) -> dict:
    """For templates/org/lab.html: the lab's recent inspections and its open tickets, each only
    if this user may see them (the org page includes inspections/_lab_sections.html)."""

    out = {"inspections": [], "tickets": [], "show_inspections": False}
    if may(current_user, Action.VIEW_INSPECTION, lab):
        out["show_inspections"] = True
        out["inspections"] = services.lab_inspections(lab.id, limit=20)
    tickets = [t for t in open_tickets_for_lab(lab.id) if may(current_user, Action.VIEW_TICKET, t)]
    out["tickets"] = [{"t": t, "url": _ticket_url(t.id), "title": reader_title(t)} for t in tickets]
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

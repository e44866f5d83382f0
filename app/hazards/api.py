"""Hazard reports JSON API (documented in /api/openapi.json): report, list, read, open a ticket, close."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from app.apidoc import doc
from app.jsonio import JsonLimit
from app.org.services import get_lab
from app.policy import Action, authorize

from . import services
from .schemas import (
    CloseReportSchema,
    HazardReportDetailSchema,
    HazardReportInSchema,
    HazardReportSchema,
    OpenTicketSchema,
    ReportQuerySchema,
)
from .serialize import report_detail, reports_list

bp = Blueprint("hazards_api", __name__, url_prefix="/api")

# Text of 20,000 characters at most (4 bytes each) and 20 photo UUIDs.
REPORT_BODY = JsonLimit(max_bytes=96 * 1024, max_items=64)


@bp.post("/hazard-reports")
@login_required
@doc("Report a hazard in a lab (art. 30): text and photo UUIDs (uploaded before or after through "
     "/api/photos). Idempotent by client_uuid: a replay answers 200 with the report, recording nothing new",
     request=HazardReportInSchema, response=HazardReportDetailSchema, status=201, json_limit=REPORT_BODY,
     responses={200: "A replay: this client_uuid's report, already recorded",
                400: "No text, text too long, too many photos, or a photo uploaded by someone else",
                404: "No such lab", 409: "This client_uuid was used for another report"})
def create():
    data = HazardReportInSchema().load(request.get_json(silent=True) or {})
    lab = get_lab(data["lab_id"])
    authorize(current_user, Action.REPORT_HAZARD, lab)
    recorded = services.create_report(current_user, lab_id=lab.id, text=data["text"], photos=data["photos"],
                                      client_uuid=data["client_uuid"], config=current_app.config)
    return report_detail(recorded.report, current_user), 201 if recorded.created else 200


@bp.get("/hazard-reports")
@login_required
@doc("The hazard reports I may see, newest first: my own, and those of the labs and colleges I oversee "
     "(filters: state, lab_id, mine=1; limit, offset)", query=ReportQuerySchema, response=HazardReportSchema,
     many=True)
def index():
    q = ReportQuerySchema().load(request.args)
    return reports_list(services.list_reports(current_user, **q), current_user)


def _viewable(report_id: int):
    report = services.get_report(report_id)
    authorize(current_user, Action.VIEW_HAZARD_REPORT, report)
    return report


@bp.get("/hazard-reports/<int:report_id>")
@login_required
@doc("A hazard report: its text, photos, state, ticket, history and the actions open to you",
     response=HazardReportDetailSchema)
def show(report_id: int):
    return report_detail(_viewable(report_id), current_user)


@bp.post("/hazard-reports/<int:report_id>/open-ticket")
@login_required
@doc("Open a rectification ticket from a report (the lab's officers, the college's leaders, the school "
     "office); the report and the ticket name each other and the reporter is told",
     request=OpenTicketSchema, response=HazardReportDetailSchema,
     responses={403: "You may not act on this report", 409: "The report was already handled"})
def open_ticket(report_id: int):
    report = _viewable(report_id)
    authorize(current_user, Action.TRIAGE_HAZARD_REPORT, report)
    data = OpenTicketSchema().load(request.get_json(silent=True) or {})
    report = services.open_ticket(current_user, report.id, article=data["article"], severity=data["severity"].value,
                                  title=data["title"], config=current_app.config)
    return report_detail(report, current_user)


@bp.post("/hazard-reports/<int:report_id>/close")
@login_required
@doc("Close a report with a reason (not a hazard, a duplicate, fixed on the spot); the reporter is told",
     request=CloseReportSchema, response=HazardReportDetailSchema,
     responses={400: "No reason", 403: "You may not act on this report", 409: "The report was already handled"})
def close(report_id: int):
    report = _viewable(report_id)
    authorize(current_user, Action.TRIAGE_HAZARD_REPORT, report)
    data = CloseReportSchema().load(request.get_json(silent=True) or {})
    report = services.close_report(current_user, report.id, reason=data["reason"], config=current_app.config)
    return report_detail(report, current_user)

"""Accidents JSON API (art. 5, 31-34; documented in /api/openapi.json)."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from app.apidoc import doc
from app.errors import NotFound
from app.jsonio import JsonLimit
from app.org.services import get_college, get_lab
from app.policy import Action, authorize
from app.timeutil import school_today

from . import services
from .models import ReportKind
from .schemas import (
    AccidentDetailSchema,
    AccidentEventSchema,
    AccidentInSchema,
    AccidentQuerySchema,
    AccidentReportSchema,
    AccidentSchema,
    CloseInSchema,
    GradeInSchema,
    ReportableLabSchema,
    ReportInSchema,
    VetoQuerySchema,
    VetoSchema,
)
from .serialize import accident_detail

bp = Blueprint("accidents_api", __name__, url_prefix="/api")

# A report of a few texts of 10,000 characters (4 bytes each at most) and 20 photo UUIDs.
REPORT_BODY = JsonLimit(max_bytes=256 * 1024, max_items=64)


def _viewable(accident_id: int):
    a = services.get_accident(accident_id)
    authorize(current_user, Action.VIEW_ACCIDENT, a)
    return a


@bp.get("/accidents")
@login_required
@doc("The accidents I may see, newest first (a college's people see their college's only)",
     query=AccidentQuerySchema, response=AccidentSchema, many=True)
def index():
    authorize(current_user, Action.VIEW_ACCIDENT)
    q = AccidentQuerySchema().load(request.args)
    rows = services.list_accidents(current_user, tz=current_app.config["SCHOOL_TIMEZONE"], year=q.get("year"),
                                   college_id=q.get("college_id"), state=q.get("state"), limit=q["limit"],
                                   offset=q["offset"])
    return AccidentSchema(many=True).dump(rows)


@bp.post("/accidents")
@login_required
@doc("Report an accident at once (art. 31): the lab's officers, its college's leader and head, the school "
     "office and the lab-management and security departments are told in-app and by e-mail; the grade I-IV "
     "is proposed from the facts (art. 33). The same client_uuid again answers 200 with the accident recorded.",
     request=AccidentInSchema, response=AccidentDetailSchema, status=201, json_limit=REPORT_BODY,
     responses={200: "A replay: this client_uuid was reported already", 403: "Not a role in the lab's college",
                409: "The client_uuid was used by someone else"})
def create():
    data = AccidentInSchema().load(request.get_json(silent=True) or {})
    lab = get_lab(data["lab_id"])
    authorize(current_user, Action.REPORT_ACCIDENT, lab)
    a, created = services.report_accident(current_user, lab, data, current_app.config)
    return accident_detail(a), 201 if created else 200


@bp.get("/accidents/labs")
@login_required
@doc("The labs I may report an accident in, by code (the phone's form; it keeps a copy for offline use)",
     response=ReportableLabSchema, many=True)
def labs():
    authorize(current_user, Action.REPORT_ACCIDENT)
    return ReportableLabSchema(many=True).dump(services.labs_to_report(current_user))


@bp.get("/accidents/<int:accident_id>")
@login_required
@doc("An accident with its photos, reports, deadline and next steps", response=AccidentDetailSchema)
def get(accident_id: int):
    return accident_detail(_viewable(accident_id))


@bp.get("/accidents/<int:accident_id>/events")
@login_required
@doc("An accident's history: every change, who and when (art. 30)", response=AccidentEventSchema, many=True)
def events(accident_id: int):
    _viewable(accident_id)
    return AccidentEventSchema(many=True).dump(services.events_of(accident_id))


@bp.post("/accidents/<int:accident_id>/grade")
@login_required
@doc("Confirm the proposed grade, or set another with a reason (art. 33; the school office)",
     request=GradeInSchema, response=AccidentDetailSchema,
     responses={400: "A different grade without a reason", 409: "Closed, or investigated and set to IV"})
def grade(accident_id: int):
    a = services.get_accident(accident_id)
    authorize(current_user, Action.CONFIRM_ACCIDENT_GRADE, a)
    data = GradeInSchema().load(request.get_json(silent=True) or {})
    return accident_detail(services.confirm_grade(current_user, a, data["grade"], data["reason"]))


@bp.get("/accidents/<int:accident_id>/reports")
@login_required
@doc("The written reports filed: the unit's (art. 31) and the investigation's (art. 32)",
     response=AccidentReportSchema, many=True)
def reports(accident_id: int):
    _viewable(accident_id)
    return AccidentReportSchema(many=True).dump(list(services.reports_of(accident_id).values()))


def _report_kind(kind: str) -> ReportKind:
    try:
        return ReportKind(kind)
    except ValueError:
        raise NotFound("unit or investigation") from None


@bp.post("/accidents/<int:accident_id>/reports/<kind>")
@login_required
@doc("File a written report, once: `unit` (the unit's leader or head, art. 31) or `investigation` (the school "
     "team, grades I-III, with nature and responsibility, art. 32). Its PDF is issued at "
     "/accidents/<id>/reports/<kind>.pdf", request=ReportInSchema, response=AccidentReportSchema, status=201,
     json_limit=REPORT_BODY, responses={409: "Filed already, or not yet possible in the accident's state"})
def file_report(accident_id: int, kind: str):
    report_kind = _report_kind(kind)
    a = services.get_accident(accident_id)
    action = Action.FILE_ACCIDENT_UNIT_REPORT if report_kind == ReportKind.unit else Action.INVESTIGATE_ACCIDENT
    authorize(current_user, action, a)
    data = ReportInSchema().load(request.get_json(silent=True) or {})
    return AccidentReportSchema().dump(services.file_report(current_user, a, report_kind, data)), 201


@bp.post("/accidents/<int:accident_id>/close")
@login_required
@doc("Close an accident (the school office): grade confirmed, the unit's report filed, and for grades I-III "
     "the investigation's", request=CloseInSchema, response=AccidentDetailSchema,
     responses={409: "Something is still missing (the message says what)"})
def close(accident_id: int):
    a = services.get_accident(accident_id)
    authorize(current_user, Action.CLOSE_ACCIDENT, a)
    data = CloseInSchema().load(request.get_json(silent=True) or {})
    return accident_detail(services.close(current_user, a, data["note"]))


@bp.get("/colleges/<int:college_id>/accident-veto")
@login_required
@doc("Art. 5 one-vote veto: has this college had an accident in the year (default: this school year)?",
     query=VetoQuerySchema, response=VetoSchema)
def veto(college_id: int):
    college = get_college(college_id)
    authorize(current_user, Action.VIEW_COLLEGE_REPORT, college)
    tz = current_app.config["SCHOOL_TIMEZONE"]
    year = VetoQuerySchema().load(request.args).get("year") or school_today(tz).year
    n = services.vetoed_colleges(year, tz, [college.id]).get(college.id, 0)
    return VetoSchema().dump({"college_id": college.id, "year": year, "vetoed": n > 0, "accidents": n})

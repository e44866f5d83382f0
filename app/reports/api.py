"""Reports JSON API: the rounds' figures the dashboards draw (issue 22: planned / done / late per
round and per college, month over month); the same scope as the monthly summary."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from app.apidoc import doc
from app.policy import Action, may, own_report_college_id
from app.rounds.services import round_figures
from app.timeutil import add_months, school_today, utcnow

from . import services
from .schemas import RoundFiguresQuerySchema, RoundFiguresSchema
from .views import authorize_scope

bp = Blueprint("reports_api", __name__, url_prefix="/api")


def _months(data, today):
    """The asked months, or the current month and the five before (either end given alone: six months)."""
    span = services.ROUND_MONTHS - 1
    first, last = data["first"], data["last"]
    if last is None:
        last = add_months(first, span) if first is not None else today.replace(day=1)
    if first is None:
        first = add_months(last, -span)
    return first, last


def _tallies(months, by_month) -> list[dict]:
    return [{"month": m.strftime("%Y-%m"), "planned": by_month[m].planned, "done": by_month[m].done,
             "late": by_month[m].late} for m in months]


@bp.get("/reports/rounds")
@login_required
@doc("Rounds' labs planned / done / late per round and per college, month by month (a round is the month "
     "its window ends in); the school's, or one college's labs", query=RoundFiguresQuerySchema,
     response=RoundFiguresSchema, responses={400: "A month not YYYY-MM, from after to, or over 24 months",
                                             403: "Not your college's figures", 404: "No such college"})
def rounds():
    data = RoundFiguresQuerySchema().load(request.args)
    if data["college_id"] is None and not may(current_user, Action.VIEW_SCHOOL_REPORT):
        # A college leader or head asking for "the" figures gets their college's, as the summary does.
        data["college_id"] = own_report_college_id(current_user)
    authorize_scope(data["college_id"])
    now = utcnow()
    first, last = _months(data, school_today(current_app.config["SCHOOL_TIMEZONE"], now))
    f = round_figures(first, last, data["college_id"], now)
    return RoundFiguresSchema().dump({
        "months": [m.strftime("%Y-%m") for m in f.months], "college_id": f.college_id,
        "total": _tallies(f.months, f.total),
        "colleges": [{"college_id": c.college_id, "code": c.code, "name": c.name, "name_en": c.name_en,
                      "months": _tallies(f.months, c.months)} for c in f.colleges],
        "rounds": [{**r, "month": r["month"].strftime("%Y-%m")} for r in f.rounds],
    })

"""Report pages: the monthly summary (art. 27, 28), its CSV/XLSX exports, and door nameplates (art. 24(1))."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.org.services import get_college, get_lab
from app.policy import Action, authorize, may, own_report_college_id
from app.security import public_base_url
from app.timeutil import add_months, percent, school_today

from . import exports, nameplates, services
from .charts import Bar, bar_chart
from .schemas import MonthlyQuerySchema, NameplateQuerySchema

bp = Blueprint("reports", __name__)


def authorize_scope(college_id: int | None):
    """The school's summary needs VIEW_SCHOOL_REPORT; one college's, VIEW_COLLEGE_REPORT on it."""
    if college_id is None:
        authorize(current_user, Action.VIEW_SCHOOL_REPORT)
        return None
    college = get_college(college_id)
    authorize(current_user, Action.VIEW_COLLEGE_REPORT, college)
    return college


def _summary(args):
    cfg = current_app.config
    month = args.get("month") or services.default_month(cfg)
    return services.monthly_summary(month, args.get("college_id"), cfg, late_sync_days=cfg["LATE_SYNC_DAYS"])


@bp.get("/reports/monthly")
@login_required
def monthly():
    args = MonthlyQuerySchema().load(request.args)
    if args["college_id"] is None and not may(current_user, Action.VIEW_SCHOOL_REPORT):
        own = own_report_college_id(current_user)  # a college leader or head: their college's
        if own is None:
            abort(403)
        month = args["month"].strftime("%Y-%m") if args["month"] else None
        return redirect(url_for("reports.college_monthly", college_id=own, month=month))
    college = authorize_scope(args["college_id"])
    return _render_monthly(args, college)


@bp.get("/colleges/<int:college_id>/reports/monthly")
@login_required
def college_monthly(college_id: int):
    args = MonthlyQuerySchema().load(request.args)
    args["college_id"] = college_id
    college = authorize_scope(college_id)
    return _render_monthly(args, college)


def _render_monthly(args, college):
    summary = _summary(args)
    tz = current_app.config["SCHOOL_TIMEZONE"]
    month = summary.month.strftime("%Y-%m")
    prev = summary.previous_month.strftime("%Y-%m")
    nxt = add_months(summary.month, 1)
    this_month = school_today(tz).replace(day=1)
    link_args = dict(request.view_args or {})
    export_args = {"month": month}
    if college is not None:
        export_args["college_id"] = college.id
        if request.endpoint == "reports.monthly":
            link_args["college_id"] = college.id
    return render_template(
        "reports/monthly.html",
        s=summary,
        college=college,
        tables=exports.tables(summary, tz),
        charts=_charts(summary),
        month=month,
        prev=prev,
        next_month=nxt.strftime("%Y-%m") if nxt <= this_month else None,
        link_args=link_args,
        export_args=export_args,
        status_note=exports.status_note(summary),
        definitions=exports.definitions(summary, tz),
        scope_name=exports.scope_name,
        level_label=exports.level_label,
        round_kind_label=exports.round_kind_label,
        round_owner=exports.round_owner,
        round_status_label=exports.round_status_label,
    )


def _charts(s: services.MonthlySummary) -> dict:
    month = s.month.strftime("%Y-%m")
    prev = s.previous_month.strftime("%Y-%m")
    rows = s.colleges if s.college_id is None else [s.total]
    compliance = [
        Bar(r.code or r.name, [r.current.compliance_pct or 0], r.previous.compliance_pct,
            "—" if r.current.compliance_pct is None else f"{r.current.compliance_pct}%")
        for r in rows
    ]
    if s.college_id is None:
        compliance.insert(0, Bar(_("Whole school"), [s.total.current.compliance_pct or 0],
                                 s.total.previous.compliance_pct,
                                 "—" if s.total.current.compliance_pct is None
                                 else f"{s.total.current.compliance_pct}%"))
    coverage = [
        Bar(r.code or r.name, [r.current.college_check_pct or 0],
            r.previous.college_check_pct,
            f"{r.current.labs_with_college_check}/{r.current.labs}")
        for r in rows
    ]
    cur, prv = s.total.current, s.total.previous
    hazards = [
        Bar(_("art. %(n)s", n=a), [cur.hazards_by_article.get(a, 0) - cur.major_by_article.get(a, 0),
                                    cur.major_by_article.get(a, 0)],
            prv.hazards_by_article.get(a, 0), str(cur.hazards_by_article.get(a, 0)))
        for a in s.articles
    ]
    legend_prev = _("%(month)s (previous month)", month=prev)
    charts = {"rounds": _rounds_chart(s, legend_prev)} if s.rounds is not None else {}
    return charts | {
        "compliance": bar_chart(compliance, title=_("Daily-check compliance %(month)s", month=month),
                                max_value=100, legend=[month], previous_label=legend_prev),
        "coverage": bar_chart(coverage, title=_("Labs with a college check %(month)s", month=month),
                              max_value=100, legend=[month], previous_label=legend_prev),
        "hazards": bar_chart(hazards, title=_("Hazards found by article %(month)s", month=month),
                             legend=[_("General"), _("Major")], previous_label=legend_prev),
    }


def _rounds_chart(s: services.MonthlySummary, legend_prev: str):
    """Per college, the month's round labs done / late / still pending in per cent of those planned, the
    month before's done below (school scope: the whole school first); None without rounds."""
    f, month, before = s.rounds, s.month, add_months(s.month, -1)
    bars = []
    for code, name, months in exports.round_scopes(f):
        t, p = months[month], months.get(before)
        if not t.planned and not (p and p.planned):
            continue
        bars.append(Bar(code or name, [percent(t.done, t.planned) or 0, percent(t.late, t.planned) or 0,
                                       percent(t.pending, t.planned) or 0],
                        percent(p.done, p.planned) if p else None, f"{t.done}/{t.planned}"))
    if not bars:  # no round this month or the month before: no chart
        return None
    return bar_chart(bars, title=_("Round labs done %(month)s", month=month.strftime("%Y-%m")), max_value=100,
                     legend=[_("Labs done"), _("Labs late"), _("Not yet due")], previous_label=legend_prev)


@bp.get("/reports/monthly.<any(csv, xlsx):fmt>")
@login_required
def monthly_export(fmt: str):
    args = MonthlyQuerySchema().load(request.args)
    college = authorize_scope(args["college_id"])
    summary = _summary(args)
    tz = current_app.config["SCHOOL_TIMEZONE"]
    name = f"labsafe-monthly-{summary.month:%Y-%m}" + (f"-{college.code}" if college is not None else "")
    if fmt == "csv":
        # The type alone: werkzeug adds "; charset=utf-8" to a text/* mimetype itself.
        body, mimetype = exports.to_csv(summary, tz).encode("utf-8"), "text/csv"
    else:
        body = exports.to_xlsx(summary, tz)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


# ---- nameplates (art. 24(1)) --------------------------------------------------------------------

@bp.get("/labs/<int:lab_id>/nameplate")
@login_required
def lab_nameplate(lab_id: int):
    lab = get_lab(lab_id)
    authorize(current_user, Action.PRINT_NAMEPLATES, lab)
    args = NameplateQuerySchema().load(request.args)
    plates = nameplates.plates_for([lab], public_base_url())
    return render_template("reports/nameplates.html", plates=plates, size=args["size"], title=lab.name,
                           college=lab.college)


@bp.get("/colleges/<int:college_id>/nameplates")
@login_required
def college_nameplates(college_id: int):
    college = get_college(college_id)
    authorize(current_user, Action.PRINT_NAMEPLATES, college)
    args = NameplateQuerySchema().load(request.args)
    plates = nameplates.plates_for(nameplates.college_labs(college.id), public_base_url())
    return render_template("reports/nameplates.html", plates=plates, size=args["size"], title=college.name,
                           college=college)

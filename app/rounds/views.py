"""Rounds pages (art. 26-28): the list a school office or a college follows its checks by, the planning
form, and a round's page (its labs' state, reassignment, its change log, art. 30). The same services
and policy as the JSON API (api.py)."""
from __future__ import annotations

from calendar import monthrange
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.errors import DomainError
from app.language import pick
from app.org.admin import form_data, refused
from app.org.labels import CATEGORY_LABELS, HAZARD_LABELS
from app.org.models import HAZARD_TAGS, LabCategory, RiskLevel
from app.org.risk import FILTER_LABELS as RISK_LABELS
from app.org.services import lab_filter
from app.policy import Action, authorize, may, own_report_college_id
from app.timeutil import add_months, school_today, utcnow
from app.validation_messages import localize

from . import labels, pages, services
from .forms import LISTS, AssignForm, RoundForm
from .models import RoundKind

bp = Blueprint("rounds", __name__)


@bp.app_context_processor
def _names():
    return {"round_labels": labels, "pick": pick}


@bp.get("/rounds")
@login_required
def index():
    authorize(current_user, Action.VIEW_ROUND)  # the list; its rows are the policy's round_clause
    kind = request.args.get("kind") or None
    status = request.args.get("status") or None
    # An unknown value (an old bookmark) lists them all, as "all" does.
    kind = RoundKind(kind) if kind in RoundKind.__members__ else None
    status = status if status in services.STATUS_CLAUSES else None
    extra = {}
    figures_of = _figures_scope()
    if figures_of is not False:  # the programme's figures, month over month, for those who read its reports
        now = utcnow()
        month = school_today(current_app.config["SCHOOL_TIMEZONE"], now).replace(day=1)
        first = add_months(month, 1 - FIGURE_MONTHS)
        extra["round_figures"] = services.round_figures(first, month, figures_of, now)
    return render_template(
        "rounds/list.html", rounds=services.list_rounds(current_user, kind=kind, status=status),
        kind=kind.value if kind else "", status=status or "", colleges=pages.college_names(),
        can_plan=may(current_user, Action.PLAN_ROUND), **extra,
    )


FIGURE_MONTHS = 6  # as the monthly summary's table: this month and the five before


def _figures_scope():
    """Whose round figures the list shows: the school's (None) to its readers, a college's to its leader
    or head (the reports' scope, art. 10, 27, 28); False: none (an inspector, a lab officer)."""
    if may(current_user, Action.VIEW_SCHOOL_REPORT):
        return None
    own = own_report_college_id(current_user)
    return own if own is not None else False


def _refused(err) -> tuple[str, int, dict[str, str]]:
    """A refused form (org.admin.refused), each field's messages as one line of text."""
    error, status, fields = refused(err)
    if isinstance(err, ValidationError):
        fields = localize(err.messages)
    return error, status, {name: "; ".join(_texts(value)) for name, value in fields.items()}


def _texts(value) -> list[str]:
    if isinstance(value, dict):  # a list field's messages by position
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _texts(item)]
    return [str(value)]


def _form_page(form=None, error=None, fields=None, status=200):
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    if form is None:  # a fresh form: from today to the month's end (a college's monthly check, art. 28)
        last = today.replace(day=monthrange(today.year, today.month)[1])
        form = {"window_from": today.isoformat(), "window_to": max(last, today + timedelta(days=6)).isoformat(),
                "assign": "even", "labs_mode": "all"}
    options = pages.plan_options(current_user)
    return render_template(
        "rounds/new.html", options=options, form=form, error=error, fields=fields or {},
        categories=[(c.value, CATEGORY_LABELS[c]) for c in LabCategory],
        hazards=[(t, HAZARD_LABELS[t]) for t in HAZARD_TAGS],
        risk_levels=[(r.value, RISK_LABELS[r.value]) for r in RiskLevel],
        colleges=pages.college_names(),
    ), status


def _posted() -> dict:
    """The posted form as the page shows it again: single values, and lists for the checkboxes."""
    form = {k: v for k, v in request.form.items() if k not in LISTS}
    form.update({name: request.form.getlist(name) for name in LISTS})
    return form


@bp.route("/rounds/new", methods=["GET", "POST"])
@login_required
def new():
    authorize(current_user, Action.PLAN_ROUND)  # someone who plans some rounds (art. 9, 27, 28)
    if request.method == "GET":
        return _form_page()
    try:
        data = RoundForm().load(form_data(lists=LISTS))
        facts = services.plan_facts(data)
        authorize(current_user, Action.PLAN_ROUND, facts)  # e.g. another college's round: 403
        r = services.create_round(current_user, data, facts, current_app.config)
    except (ValidationError, DomainError) as err:
        error, status, fields = _refused(err)
        return _form_page(_posted(), error, fields, status)
    if data["assign"] == "hand":
        flash(_("Round planned. Assign its labs to inspectors below."))
        return redirect(url_for(".round_page", round_id=r.id, _anchor="labs"))
    flash(_("Round planned."))
    return redirect(url_for(".round_page", round_id=r.id))


PAGE_SIZE = 100  # labs per page of a round's page (a school-wide round has every lab)


def _round_page(r, facts, now, error=None, fields=None, refused_labs=(), status=200):
    can_plan = may(current_user, Action.PLAN_ROUND, facts)
    # Planners and the round's inspectors see all its labs; anyone else (a lab's officer) their own (api.labs).
    whole = can_plan or current_user.id in facts.inspector_ids
    rows = services.round_labs(r, now, None if whole else lab_filter(current_user))
    by_state = {state: sum(1 for row in rows if row["state"] == state) for state in labels.STATE_LABELS}
    state = request.args.get("state") if request.args.get("state") in labels.STATE_LABELS else ""
    if state:
        rows = [row for row in rows if row["state"] == state]
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), max(1, -(-len(rows) // PAGE_SIZE)))
    link = lambda n: url_for(".round_page", round_id=r.id, state=state or None, page=n, _anchor="labs")  # noqa: E731
    pager = {"prev": link(page - 1) if page > 1 else None,
             "next": link(page + 1) if page * PAGE_SIZE < len(rows) else None}
    summary = services.round_summary(r, services.counts([r.id]).get(r.id), now)
    log, people, lab_names = pages.change_log(r) if whole else ([], {}, {})
    return render_template(
        "rounds/round.html", r=r, summary=summary, labs=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE],
        by_state=by_state, state=state, pager=pager, whole=whole, can_plan=can_plan, names=pages.round_names(r),
        draw=services.draw_record(r) if r.draw_n is not None else None, log=log, people=people,
        lab_names=lab_names, candidates=pages.round_candidates(r) if can_plan else [],
        error=error, fields=fields or {}, refused_labs=set(refused_labs),
    ), status


def _authorized(round_id: int, action: Action):
    """The round, as the policy reads it and when, once the policy let this user do ``action`` to it."""
    r = services.get_round(round_id)
    now = utcnow()
    facts = services.facts_of(r, now)
    authorize(current_user, action, facts)
    return r, facts, now


@bp.get("/rounds/<int:round_id>")
@login_required
def round_page(round_id: int):
    return _round_page(*_authorized(round_id, Action.VIEW_ROUND))


@bp.post("/rounds/<int:round_id>/assignments")
@login_required
def assign(round_id: int):
    r, facts, now = _authorized(round_id, Action.PLAN_ROUND)
    try:
        changed = services.set_assignments(current_user, r, AssignForm().load(form_data(lists=("lab_ids",))))
    except (ValidationError, DomainError) as err:
        error, status, fields = _refused(err)
        refused_labs = getattr(err, "details", {}).get("lab_ids", [])
        return _round_page(r, facts, now, error, fields, refused_labs, status)
    flash(_("%(n)d labs reassigned.", n=changed))
    return redirect(url_for(".round_page", round_id=round_id, _anchor="labs"))

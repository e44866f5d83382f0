"""The recurring round rules' page (/rounds/rules): the rules a planner may plan, their next periods, a
form to make one and a button to pause or resume it. The rules are in rules.py; who may plan what is
Action.PLAN_ROUND on each rule's facts (app/policy.py)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from app.errors import DomainError
from app.org.admin import refused  # the admin forms' way of saying why a form was refused
from app.org.labels import CATEGORY_LABELS, HAZARD_LABELS
from app.org.models import HAZARD_TAGS, LabCategory
from app.policy import Action, authorize
from app.timeutil import school_today

from . import rules
from .labels import TOPIC_LABELS
from .models import Recurrence, RoundKind
from .schemas import RuleInSchema

bp = Blueprint("round_rules", __name__)

KIND_LABELS = {  # the form's order: a college's own check first (most rules are theirs)
    RoundKind.college_monthly.value: _l("College monthly check (art. 28)"),
    RoundKind.school_wide.value: _l("School-wide check (art. 27)"),
    RoundKind.special.value: _l("Special check (art. 27)"),
}
RECURRENCE_LABELS = {
    Recurrence.monthly.value: _l("Each month"),
    Recurrence.semester.value: _l("Each semester"),
    Recurrence.by_risk.value: _l("By each lab's risk grade (I weekly, II fortnightly, III–IV monthly)"),
}
CADENCE_LABELS = {"weekly": _l("Week"), "fortnightly": _l("Half-month"), "monthly": _l("Month"),
                  "semester": _l("Semester")}


class RuleForm(Schema):
    """The page's form, turned into the JSON API's body (RuleInSchema validates both the same way)."""

    class Meta:
        unknown = EXCLUDE  # csrf_token

    title = fields.String(load_default="")
    kind = fields.String(load_default="")
    topic = fields.String(load_default=None)
    owner_college_id = fields.String(load_default="")
    checklist_key = fields.String(load_default=None)
    recurrence = fields.String(load_default="")
    lead_days = fields.String(load_default="7")
    labs_mode = fields.String(load_default="all")
    category = fields.String(load_default=None)
    hazard_tag = fields.String(load_default=None)


def _body(form: dict, inspector_ids: list[str]) -> dict:
    labs = {"mode": form["labs_mode"]}
    if form["labs_mode"] in ("category", "hazard_tag"):
        labs[form["labs_mode"]] = form.get(form["labs_mode"]) or ""
    try:
        lead = int(form["lead_days"])
    except ValueError:
        lead = form["lead_days"]  # RuleInSchema says why
    return {
        "title": form["title"], "kind": form["kind"], "topic": form["topic"] if form["kind"] == "special" else None,
        "owner_college_id": int(form["owner_college_id"]) if form["owner_college_id"].isdigit() else None,
        "checklist_key": form["checklist_key"] or None, "recurrence": form["recurrence"], "lead_days": lead,
        "labs": labs, "inspector_ids": [int(i) for i in inspector_ids if i.isdigit()],
    }


def _reach():
    reach = rules.planner_reach(current_user)
    if not reach["school"] and not reach["colleges"]:
        abort(403)  # plans no round anywhere (PLAN_ROUND said no for every owner)
    return reach


def _page(reach, error=None, fields_=None, form=None, status=200):
    config = current_app.config
    checklists = rules.checklist_choices()
    return render_template(
        "rounds/rules.html", rules=rules.list_rules(current_user, school_today(config["SCHOOL_TIMEZONE"]), config),
        reach=reach, colleges={c.id: c for c in reach["colleges"]}, inspectors=rules.inspector_choices(reach),
        checklists=checklists, checklist_titles=dict(checklists), kinds=KIND_LABELS, recurrences=RECURRENCE_LABELS,
        cadences=CADENCE_LABELS, topics=TOPIC_LABELS, categories=[(c.value, CATEGORY_LABELS[c]) for c in LabCategory],
        hazards=[(t, HAZARD_LABELS.get(t, t)) for t in HAZARD_TAGS],
        error=error, fields=fields_ or {}, form=form or {}), status


@bp.get("/rounds/rules")
@login_required
def rules_page():
    return _page(_reach())


@bp.post("/rounds/rules")
@login_required
def create_rule():
    reach = _reach()
    try:
        data = RuleInSchema().load(_body(RuleForm().load(request.form), request.form.getlist("inspector_ids")))
        facts = rules.plan_facts(data)
        authorize(current_user, Action.PLAN_ROUND, facts)
        rule = rules.create_rule(current_user, data, facts, school_today(current_app.config["SCHOOL_TIMEZONE"]))
    except (ValidationError, DomainError) as err:
        error, status, fields_ = refused(err)
        return _page(reach, error, fields_, dict(request.form), status)
    flash(_("Rule “%(title)s” made: its rounds are planned each night, %(n)d days ahead.", title=rule.title,
            n=rule.lead_days))
    return redirect(url_for(".rules_page"))


@bp.post("/rounds/rules/<int:rule_id>/paused")
@login_required
def set_paused(rule_id: int):
    rule = rules.get_rule(rule_id)
    authorize(current_user, Action.PLAN_ROUND, rules.rule_facts(rule))
    paused = request.form.get("paused") == "1"
    rules.change_rule(current_user, rule, {"paused": paused})
    flash(_("Rule paused: it plans no round until resumed.") if paused else _("Rule resumed."))
    return redirect(url_for(".rules_page"))

"""Recurring round rules, JSON: make one, list mine, pause / resume / rename / change inspectors.

Who may: as for the rounds a rule plans (Action.PLAN_ROUND on the rule's facts: the school office the
school's, a tasked department its special checks, a college leader the college's; art. 9, 27, 28)."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from app.apidoc import doc
from app.policy import Action, authorize
from app.timeutil import school_today

from . import rules
from .schemas import RuleChangeSchema, RuleInSchema, RuleSchema

bp = Blueprint("round_rules_api", __name__, url_prefix="/api")


def _today():
    return school_today(current_app.config["SCHOOL_TIMEZONE"])


def _summary(rule):
    return RuleSchema().dump(rules.list_one(rule, _today(), current_app.config))


@bp.post("/round-rules")
@login_required
@doc("Make a recurring round rule: monthly, per semester, or by the labs' risk grades; the nightly job "
     "plans its rounds", request=RuleInSchema, response=RuleSchema, status=201,
     responses={403: "You may not plan these rounds (art. 9, 27, 28)"})
def create():
    data = RuleInSchema().load(request.get_json(silent=True) or {})
    facts = rules.plan_facts(data)
    authorize(current_user, Action.PLAN_ROUND, facts)
    return _summary(rules.create_rule(current_user, data, facts, _today())), 201


@bp.get("/round-rules")
@login_required
@doc("The round rules I may plan, with their rounds planned so far and their next periods",
     response=RuleSchema, many=True)
def index():
    return RuleSchema(many=True).dump(rules.list_rules(current_user, _today(), current_app.config))


@bp.patch("/round-rules/<int:rule_id>")
@login_required
@doc("Pause or resume a rule, rename it, or change its inspectors (for rounds planned from now on); recorded "
     "(art. 30)", request=RuleChangeSchema, response=RuleSchema)
def change(rule_id: int):
    rule = rules.get_rule(rule_id)
    authorize(current_user, Action.PLAN_ROUND, rules.rule_facts(rule))
    data = RuleChangeSchema().load(request.get_json(silent=True) or {})
    return _summary(rules.change_rule(current_user, rule, data))

"""Recurring round rules (issue 22): each period planned once, by the nightly job or the CLI; semesters
from the setting; a lab as often as its risk grade says; a paused rule plans nothing; a fixed number of
statements whatever the number of labs; who may make which rule."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role
from app.extensions import db
from app.jobs.services import run_nightly
from app.org.models import RiskLevel
from app.rounds import rules, services
from app.rounds.models import InspectionRound, RoundChange, RoundLab, RoundRule, RoundRuleChange
from app.rounds.schemas import RuleInSchema
from tests.factories import login, make_checklist_version, make_lab, make_user
from tests.factories.reports import add_closure

from .helpers import rewind, today, world

LONG_AGO = datetime(2020, 1, 1)


def _world():
    w = world()
    w.college_inspector = make_user(Role.inspector, college=w.college)
    return w


def _rule(w, user=None, *, created_at=LONG_AGO, **kw):
    body = {"title": "化学学院月度检查", "kind": "college_monthly", "owner_college_id": w.college.id,
            "checklist_key": w.key, "recurrence": "monthly", "inspector_ids": [w.college_inspector.id], **kw}
    data = RuleInSchema().load(body)
    rule = rules.create_rule(user or w.admin, data, rules.plan_facts(data), date(2026, 11, 1))
    rule.created_at = created_at  # made long before the nights the tests plan
    db.session.commit()
    return rule


def _plan(day: date) -> dict:
    result = rules.plan_due_rounds(day, current_app.config)
    db.session.commit()
    return result


def _rounds(rule=None):
    db.session.expire_all()
    stmt = select(InspectionRound).where(InspectionRound.rule_id.is_not(None)).order_by(InspectionRound.id)
    if rule is not None:
        stmt = stmt.where(InspectionRound.rule_id == rule.id)
    return list(db.session.scalars(stmt))


def _labs(r) -> set[int]:
    return set(db.session.scalars(select(RoundLab.lab_id).where(RoundLab.round_id == r.id)))


def _shape(rounds):
    return sorted((r.rule_id, r.period_start, r.rule_part, r.window_from, r.window_to, r.checklist_key,
                   tuple(sorted(_labs(r)))) for r in rounds)


def test_a_monthly_rule_plans_each_month_once_lead_days_ahead(app):
    w = _world()
    rule = _rule(w)
    assert _plan(date(2026, 11, 20)) == {"planned": 1, "not_planned": 0}  # November, under way
    assert _plan(date(2026, 11, 22)) == {"planned": 0, "not_planned": 0}  # 1 December is 8 days after the 23rd
    assert _plan(date(2026, 11, 23))["planned"] == 1  # ... and 7 after the 24th: lead_days 7
    assert _plan(date(2026, 11, 23))["planned"] == 0  # the same night again
    nov, dec = _rounds(rule)
    assert (nov.window_from, nov.window_to, dec.window_from, dec.window_to) == (
        date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 31))
    assert dec.title == "化学学院月度检查 · 2026-12" and dec.kind.value == "college_monthly"
    assert (dec.rule_id, dec.period_start, dec.rule_part) == (rule.id, date(2026, 12, 1), f"monthly:{w.key}")
    assert dec.owner_college_id == w.college.id and _labs(dec) == {lab.id for lab in w.labs}
    # Spread evenly over the rule's inspectors, as create_round does; its change log says the rule made it.
    assert set(db.session.scalars(select(RoundLab.inspector_id).where(RoundLab.round_id == dec.id))) == {
        w.college_inspector.id}
    change = db.session.scalar(select(RoundChange).where(RoundChange.round_id == dec.id))
    assert change.what == "created" and change.by_id is None
    assert change.detail["rule_id"] == rule.id and change.detail["period_start"] == "2026-12-01"
    assert dec.created_by_id == w.admin.id


def test_a_period_is_unique_per_rule_so_a_twin_run_cannot_plan_it_twice(app):
    w = _world()
    rule = _rule(w)
    _plan(date(2026, 11, 20))
    data = {"title": "t", "kind": "college_monthly", "checklist_key": w.key, "window_from": date(2026, 11, 1),
            "window_to": date(2026, 11, 30), "labs": {"mode": "all"}, "inspector_ids": []}
    twin = services.RuleOrigin(rule.id, date(2026, 11, 1), f"monthly:{w.key}")
    with pytest.raises(IntegrityError):
        services.create_round(w.admin, data, rules.rule_facts(rule), current_app.config, origin=twin)
    db.session.rollback()
    assert len(_rounds(rule)) == 1


def test_catching_up_missed_nights_plans_what_one_run_a_night_plans(app):
    w = _world()
    t = today()
    risk_lab = make_lab(w.college)
    risk_lab.risk_level = RiskLevel.I
    make_checklist_version("full", key="full")
    db.session.commit()
    _rule(w, lead_days=3)
    _rule(w, title="按风险等级", recurrence="by_risk", checklist_key=None, lead_days=0)
    for n in range(20, 0, -1):
        run_nightly(t - timedelta(days=n), current_app.config, send_mail=False)
    nightly = _shape(_rounds())
    assert len({r[2].split(":")[0] for r in nightly}) >= 2  # monthly and weekly rounds both planned
    from app.jobs.models import NightlyRun
    from app.notifications.models import Notification, OutboxEmail
    from app.rounds.models import RoundLateFlag

    rewind((RoundLateFlag, RoundChange, RoundLab, InspectionRound), (OutboxEmail, Notification, NightlyRun))
    run_nightly(t - timedelta(days=20), current_app.config, send_mail=False)
    summary = run_nightly(t - timedelta(days=1), current_app.config, send_mail=False)  # 19 nights at once
    assert len(summary["days"]) == 19 and _shape(_rounds()) == nightly
    assert run_nightly(t - timedelta(days=1), current_app.config, send_mail=False)["rounds_planned"] == 0


def test_a_rule_made_after_a_night_plans_nothing_on_that_night(app):
    w = _world()
    rule = _rule(w, created_at=datetime(2026, 11, 25, 3))  # 11:00 in Shanghai on the 25th
    assert _plan(date(2026, 11, 24))["planned"] == 0  # that night was over before the rule existed
    assert _plan(date(2026, 11, 25))["planned"] == 2  # November and December (lead 7)
    assert len(_rounds(rule)) == 2


def test_semesters_come_from_the_setting(app):
    w = _world()
    current_app.config["SEMESTERS"] = "2026-09-07:2027-01-17,2027-03-01:2027-07-04"
    rule = _rule(w, title="校级学期检查", kind="school_wide", owner_college_id=None, recurrence="semester",
                 lead_days=14, inspector_ids=[w.inspector.id])
    assert _plan(date(2027, 1, 20))["planned"] == 0  # the winter holiday: no semester under way or near
    assert _plan(date(2027, 2, 14))["planned"] == 1  # 1 March is 14 days after the 15th
    assert _plan(date(2027, 2, 20))["planned"] == 0
    (spring,) = _rounds(rule)
    assert (spring.window_from, spring.window_to, spring.kind.value, spring.owner_college_id) == (
        date(2027, 3, 1), date(2027, 7, 4), "school_wide", None)
    assert spring.title == "校级学期检查 · 2027-03-01–2027-07-04"
    assert _labs(spring) == {lab.id for lab in w.labs} | {w.other_lab.id}
    # The monthly summary counts school checks from the same semesters.
    from app.reports.services import semester_start

    assert semester_start(date(2026, 9, 1), current_app.config) == date(2026, 9, 7)
    assert semester_start(date(2027, 2, 1), current_app.config) == date(2026, 9, 7)
    assert semester_start(date(2027, 3, 1), current_app.config) == date(2027, 3, 1)
    assert semester_start(date(2026, 4, 1), current_app.config) == date(2026, 3, 1)  # before them: start months


def test_without_semester_dates_semesters_follow_the_start_months(app):
    from app import semesters

    cfg = {"SEMESTERS": "", "REPORT_SEMESTER_START_MONTHS": (3, 9)}
    first = next(semesters.semesters_from(date(2026, 12, 1), cfg))
    assert (first.start, first.end) == (date(2026, 9, 1), date(2027, 2, 28))
    with pytest.raises(semesters.SemesterSettingError, match="LABSAFE_SEMESTERS"):
        semesters.parse("2026-09-07/2027-01-17")
    with pytest.raises(semesters.SemesterSettingError, match="overlap"):
        semesters.parse("2026-09-07:2027-01-17,2027-01-01:2027-07-04")


def test_by_risk_grade_a_grade_i_lab_weekly_a_grade_iv_lab_monthly(app):
    w = _world()
    make_checklist_version("full", key="full")  # org.risk.checklist_keys: the grade's lists begin with "full"
    red, blue = make_lab(w.college), make_lab(w.college)
    red.risk_level, blue.risk_level = RiskLevel.I, RiskLevel.IV
    db.session.commit()
    rule = _rule(w, title="按风险等级检查", recurrence="by_risk", checklist_key=None, lead_days=0)
    day = date(2026, 11, 30)
    while day < date(2026, 12, 31):  # every night of December
        _plan(day)
        day += timedelta(days=1)
    planned = _rounds(rule)
    weekly = [r for r in planned if r.rule_part == "weekly:full"]
    monthly = [r for r in planned if r.rule_part == "monthly:full"]
    assert len(planned) == len(weekly) + len(monthly)  # no grade II lab: no fortnightly round
    # Weeks Monday to Sunday that have a day in December: from 30 November to the one from 28 December.
    assert [r.window_from for r in weekly] == [date(2026, 11, 30) + timedelta(weeks=n) for n in range(5)]
    assert all(_labs(r) == {red.id} and r.checklist_key == "full" for r in weekly)
    assert weekly[1].title == "按风险等级检查 · 2026-W50 · Ⅰ"
    (month,) = monthly
    assert (month.window_from, month.window_to) == (date(2026, 12, 1), date(2026, 12, 31))
    assert _labs(month) == {blue.id} | {lab.id for lab in w.labs}  # IV and the ungraded: monthly (art. 28)
    assert red.id not in _labs(month)


def test_fortnightly_periods_are_half_months():
    periods = rules.due_periods("fortnightly", date(2026, 2, 10), 10, {})
    assert [(p.start, p.end) for p in periods] == [
        (date(2026, 2, 1), date(2026, 2, 15)), (date(2026, 2, 16), date(2026, 2, 28))]
    assert periods[1].label == "2026-02-16–28"


def test_closed_labs_are_left_out(app):
    w = _world()
    add_closure(w.labs[0], date(2026, 11, 25), date(2027, 1, 10))
    rule = _rule(w)
    _plan(date(2026, 11, 24))
    nov, dec = _rounds(rule)
    assert w.labs[0].id in _labs(nov) and w.labs[0].id not in _labs(dec)


def test_a_paused_rule_plans_nothing_until_resumed(app):
    w = _world()
    rule = _rule(w)
    rules.change_rule(w.leader, rule, {"paused": True})
    assert _plan(date(2026, 11, 20))["planned"] == 0 and _rounds(rule) == []
    rules.change_rule(w.leader, rule, {"paused": False})
    assert _plan(date(2026, 11, 20))["planned"] == 1
    changes = list(db.session.scalars(select(RoundRuleChange).where(RoundRuleChange.rule_id == rule.id)
                                      .order_by(RoundRuleChange.id)))
    assert [(c.what, c.by_id) for c in changes] == [("created", w.admin.id), ("paused", w.leader.id),
                                                    ("resumed", w.leader.id)]
    assert changes[1].detail == {"paused": {"from": False, "to": True}}


def test_rules_and_their_changes_are_never_deleted(app):
    from app.rounds.models import RoundDeletionRefused

    w = _world()
    rule = _rule(w)
    db.session.delete(rule)
    with pytest.raises(RoundDeletionRefused):
        db.session.flush()
    db.session.rollback()
    change = db.session.scalar(select(RoundRuleChange))
    change.what = "rewritten"
    with pytest.raises(RoundDeletionRefused):
        db.session.flush()
    db.session.rollback()


def test_a_rule_whose_round_cannot_be_planned_is_tried_again(app):
    w = _world()
    rule = _rule(w, inspector_ids=[w.college_inspector.id])
    other = make_user(Role.inspector, college=w.other_college)
    rule.inspector_ids = [other.id]  # may not inspect this college's labs (art. 28)
    db.session.commit()
    assert _plan(date(2026, 11, 20)) == {"planned": 0, "not_planned": 1}
    rules.change_rule(w.leader, rule, {"inspector_ids": [w.college_inspector.id]})
    assert _plan(date(2026, 11, 21)) == {"planned": 1, "not_planned": 0}


def test_two_planners_at_once_plan_each_period_once(app):
    """The nightly job and `flask rounds generate` started together (two connections)."""
    import threading

    w = _world()
    rule = _rule(w)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def planner():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(rules.plan_due_rounds_now(date(2026, 11, 24), current_app.config))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=planner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r["planned"] for r in results) == 2 and len(_rounds(rule)) == 2


def _statements(day: date) -> int:
    n = {"n": 0}

    def listener(*args):
        n["n"] += 1

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = rules.plan_due_rounds(day, current_app.config)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return n["n"], result


def test_the_planning_step_costs_a_fixed_number_of_statements(app):
    w = _world()
    make_checklist_version("full", key="full")
    for level in (RiskLevel.I, RiskLevel.II):
        make_lab(w.college).risk_level = level
    db.session.commit()
    _rule(w, lead_days=0)
    _rule(w, title="按风险等级", recurrence="by_risk", checklist_key=None, lead_days=0)
    # 30 September: October's month, first half-month and the week from 28 September, for each rule.
    small, planned = _statements(date(2026, 9, 30))
    assert planned == {"planned": 4, "not_planned": 0}  # the plain rule's month; the risk rule's three cadences
    for level in (RiskLevel.I, RiskLevel.II, RiskLevel.IV, None) * 5:
        make_lab(w.college).risk_level = level
    db.session.commit()
    # 31 October: November's, its first half and the week from 26 October: the same work, 20 labs more.
    large, planned = _statements(date(2026, 10, 31))
    assert planned == {"planned": 4, "not_planned": 0}
    assert max(len(_labs(r)) for r in _rounds()) == 3 + 2 + 20  # the plain rule's November
    assert small == large


def test_the_cli_plans_as_the_night_after_the_day(app):
    w = _world()
    rule = _rule(w)
    out = app.test_cli_runner().invoke(args=["rounds", "generate", "--day", "2026-11-24"])
    assert out.exit_code == 0, out.output
    assert '"planned": 2' in out.output and len(_rounds(rule)) == 2
    again = app.test_cli_runner().invoke(args=["rounds", "generate", "--day", "2026-11-24"])
    assert '"planned": 0' in again.output
    bad = app.test_cli_runner().invoke(args=["rounds", "generate", "--day", "24.11.2026"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


# ---- the API and the page: who may make which rule -----------------------------------------------

def _body(w, **kw):
    return {"title": "月度检查", "kind": "college_monthly", "owner_college_id": w.college.id, "checklist_key": w.key,
            "recurrence": "monthly", "inspector_ids": [w.college_inspector.id], **kw}


def test_a_college_leader_makes_and_sees_only_their_college_rules(app, client):
    w = _world()
    school = _rule(w, kind="school_wide", owner_college_id=None, recurrence="semester", inspector_ids=[])
    login(client, w.leader)
    made = client.post("/api/round-rules", json=_body(w))
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["recurrence"] == "monthly" and body["rounds_planned"] == 0 and body["next_periods"][0]["cadence"] == \
        "monthly"
    other = client.post("/api/round-rules", json=_body(w, owner_college_id=w.other_college.id))
    assert other.status_code == 403
    assert client.post("/api/round-rules", json=_body(w, kind="school_wide", owner_college_id=None)).status_code == 403
    assert [r["id"] for r in client.get("/api/round-rules").get_json()] == [body["id"]]
    assert client.patch(f"/api/round-rules/{school.id}", json={"paused": True}).status_code == 403
    paused = client.patch(f"/api/round-rules/{body['id']}", json={"paused": True, "title": "月度检查（暂停）"})
    assert paused.status_code == 200 and paused.get_json()["paused"] is True
    assert client.patch(f"/api/round-rules/{body['id']}", json={}).status_code == 400
    login(client, w.other_leader)
    assert client.get("/api/round-rules").get_json() == []
    login(client, w.admin)
    assert {r["id"] for r in client.get("/api/round-rules").get_json()} == {school.id, body["id"]}


def test_bad_rules_are_refused_with_a_reason(app, client):
    w = _world()
    login(client, w.admin)
    risky = client.post("/api/round-rules", json=_body(w, kind="school_wide", owner_college_id=None,
                                                      recurrence="by_risk"))
    assert risky.status_code == 400 and "recurrence" in risky.get_json()["error"]["details"]["fields"]
    no_list = client.post("/api/round-rules", json=_body(w, checklist_key=None))
    assert no_list.status_code == 400
    assert client.post("/api/round-rules", json=_body(w, inspector_ids=[999999])).status_code == 400
    assert client.post("/api/round-rules", json=_body(w, lead_days=400)).status_code == 400
    assert client.post("/api/round-rules", json=_body(w, checklist_key="nope")).status_code == 400
    assert client.post("/api/round-rules", json=_body(w, labs={"mode": "category", "category": "nope"})
                       ).status_code == 400
    nobody = client.post("/api/round-rules", json=_body(w, labs={"mode": "list", "lab_ids": [w.other_lab.id]}))
    assert nobody.status_code == 400  # another college's lab: never in this college's rounds
    assert db.session.scalar(select(RoundRule.id)) is None


def test_the_rules_page_lists_makes_and_pauses_in_chinese_and_english(app, client):
    w = _world()
    login(client, w.leader)
    page = client.get("/rounds/rules")
    assert page.status_code == 200 and "周期性检查计划" in page.get_data(as_text=True)
    made = client.post("/rounds/rules", data={
        "title": "化学学院每月检查", "kind": "college_monthly", "owner_college_id": str(w.college.id),
        "checklist_key": w.key, "recurrence": "monthly", "lead_days": "5", "labs_mode": "all",
        "inspector_ids": [str(w.college_inspector.id)]})
    assert made.status_code == 302
    rule = db.session.scalar(select(RoundRule))
    assert (rule.title, rule.lead_days, rule.inspector_ids, rule.created_by_id) == (
        "化学学院每月检查", 5, [w.college_inspector.id], w.leader.id)
    refused = client.post("/rounds/rules", data={"title": "x", "kind": "college_monthly",
                                                  "owner_college_id": str(w.college.id), "recurrence": "monthly",
                                                  "labs_mode": "all"})
    assert refused.status_code == 400 and "检查表" in refused.get_data(as_text=True)
    assert client.post(f"/rounds/rules/{rule.id}/paused", data={"paused": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(RoundRule, rule.id).paused is True
    english = client.get("/rounds/rules?lang=en").get_data(as_text=True)
    assert "Recurring rounds" in english and "化学学院每月检查" in english and "Resume" in english
    login(client, w.officer)
    assert client.get("/rounds/rules").status_code == 403

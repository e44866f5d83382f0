"""Access matrix for recurring round rules: planned as the rounds they plan (Action.PLAN_ROUND: the
school office the school's, a tasked department its special checks, a college leader the college's)."""
from __future__ import annotations

from tests.access.matrix import ADMIN, EVERYONE, Case

_SCHOOL: dict = {}
_COLLEGE_A: dict = {}
_COLLEGE_B: dict = {}
_SPECIAL: dict = {}
_FORM_A: dict = {}
_PLANNERS = frozenset({"admin", "college_leader", "dept_officer"})
_RULE = "/api/round-rules/<int:rule_id>"

CASES = [
    Case("GET", "/api/round-rules", "/api/round-rules", allow=EVERYONE, note="the rules one may plan (often none)"),
    Case("POST", "/api/round-rules", "/api/round-rules", json=_SCHOOL, allow=ADMIN, note="school semester rule"),
    Case("POST", "/api/round-rules", "/api/round-rules", json=_COLLEGE_A, allow=frozenset({"admin", "college_leader"}),
         note="college A's monthly rule, art. 28"),
    Case("POST", "/api/round-rules", "/api/round-rules", json=_COLLEGE_B, allow=ADMIN, note="another college's"),
    Case("POST", "/api/round-rules", "/api/round-rules", json=_SPECIAL, allow=frozenset({"admin", "dept_officer"}),
         note="special biosafety rule: the lab management office's remit, art. 9(1), 27"),
    Case("PATCH", _RULE, "/api/round-rules/{rule_college_a}", json={"title": "改名"},
         allow=frozenset({"admin", "college_leader"})),
    Case("PATCH", _RULE, "/api/round-rules/{rule_school}", json={"title": "改名"}, allow=ADMIN),
    Case("GET", "/rounds/rules", "/rounds/rules", allow=_PLANNERS, note="those who plan some round"),
    Case("POST", "/rounds/rules", "/rounds/rules", data=_FORM_A, allow=frozenset({"admin", "college_leader"}),
         note="college A's monthly rule from the page's form"),
    Case("POST", "/rounds/rules/<int:rule_id>/paused", "/rounds/rules/{rule_college_a}/paused", data={"paused": "0"},
         allow=frozenset({"admin", "college_leader"})),
    Case("POST", "/rounds/rules/<int:rule_id>/paused", "/rounds/rules/{rule_school}/paused", data={"paused": "0"},
         allow=ADMIN),
]


def _body(w, **kw) -> dict:
    return {"title": "月度检查", "kind": "college_monthly", "owner_college_id": w.college_a.id,
            "checklist_key": w.round_full.checklist.key, "recurrence": "monthly", **kw}


def extend_world(w):
    """A school semester rule and college A's monthly rule (after the rounds' world: its checklists)."""
    from datetime import date

    from app.rounds import rules
    from app.rounds.schemas import RuleInSchema

    admin = w.users["admin"]
    school = _body(w, kind="school_wide", owner_college_id=None, recurrence="semester")

    def make(body):
        data = RuleInSchema().load(body)
        return rules.create_rule(admin, data, rules.plan_facts(data), date.today()).id

    w.ids["rule_school"] = make(school)
    w.ids["rule_college_a"] = make(_body(w))
    other = _body(w, owner_college_id=w.college_b.id)
    for target, body in ((_SCHOOL, school), (_COLLEGE_A, _body(w)), (_COLLEGE_B, other),
                         (_SPECIAL, _body(w, kind="special", topic="biosafety", owner_college_id=None,
                                          checklist_key=w.round_special.checklist.key))):
        target.clear()
        target.update(body)
    _FORM_A.clear()
    _FORM_A.update({"title": "月度检查", "kind": "college_monthly", "owner_college_id": str(w.college_a.id),
                    "checklist_key": w.round_full.checklist.key, "recurrence": "monthly", "labs_mode": "all"})

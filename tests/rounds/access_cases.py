"""Access matrix for rounds: who plans, who sees which round (art. 9, 27, 28), the work list."""
from __future__ import annotations

from tests.access.matrix import ADMIN, EVERYONE, Case

# Bodies filled in by extend_world (they need the world's ids).
_SCHOOL: dict = {}
_COLLEGE_A: dict = {}
_COLLEGE_B: dict = {}
_SPECIAL: dict = {}
_ASSIGN_A: dict = {}
_ASSIGN_SCHOOL: dict = {}

_LABS = "/api/rounds/<int:round_id>/labs"
_ASSIGN = "/api/rounds/<int:round_id>/assignments"
_DRAW = "/api/rounds/<int:round_id>/draw"

CASES = [
    Case("GET", "/api/rounds", "/api/rounds", allow=EVERYONE, note="scoped listing"),
    Case("GET", "/api/me/rounds", "/api/me/rounds", allow=EVERYONE, note="one's own work list"),
    Case("POST", "/api/rounds", "/api/rounds", json=_SCHOOL, allow=ADMIN, note="school-wide round, art. 27"),
    Case("POST", "/api/rounds", "/api/rounds", json=_COLLEGE_A, allow=frozenset({"admin", "college_leader"}),
         note="college A's monthly round, art. 28"),
    Case("POST", "/api/rounds", "/api/rounds", json=_COLLEGE_B, allow=ADMIN, note="another college's round"),
    Case("POST", "/api/rounds", "/api/rounds", json=_SPECIAL, allow=frozenset({"admin", "dept_officer"}),
         note="special biosafety round, the lab management office's remit, art. 9(1), 27"),
    Case("GET", _LABS, "/api/rounds/{round_school}/labs",
         allow=frozenset({"admin", "school_inspector", "lab_officer", "other_officer"}),
         note="school round: admin, its inspector, its labs' officers"),
    Case("GET", _LABS, "/api/rounds/{round_college_a}/labs",
         allow=frozenset({"admin", "college_leader", "college_head", "college_inspector", "lab_officer"}),
         note="college A's round"),
    Case("GET", _LABS, "/api/rounds/{round_college_b}/labs", allow=frozenset({"admin", "other_officer"}),
         note="college B's round, seen from college A"),
    Case("GET", _LABS, "/api/rounds/{round_spot}/labs",
         allow=frozenset({"admin", "school_inspector", "dept_officer"}),
         note="unannounced spot check not started: never its lab's officer"),
    Case("PATCH", _ASSIGN, "/api/rounds/{round_college_a}/assignments", json=_ASSIGN_A,
         allow=frozenset({"admin", "college_leader"})),
    Case("PATCH", _ASSIGN, "/api/rounds/{round_school}/assignments", json=_ASSIGN_SCHOOL, allow=ADMIN),
    Case("GET", _DRAW, "/api/rounds/{round_spot}/draw", allow=frozenset({"admin", "school_inspector", "dept_officer"}),
         note="the draw of an unannounced round not started"),
    Case("GET", _DRAW, "/api/rounds/{round_school}/draw",
         allow=frozenset({"admin", "school_inspector", "lab_officer", "other_officer"}),
         note="allowed readers get 404: not drawn"),
]


def _body(w, *, start, end, **kw) -> dict:
    return {"title": "检查", "kind": "school_wide", "checklist_key": w.round_full.checklist.key,
            "window_from": start.isoformat(), "window_to": end.isoformat(), **kw}


def extend_world(w):
    """Rounds: the school's (A1 and B1, school inspector), college A's and college B's monthly ones, and
    an unannounced spot check of A1 that starts tomorrow (special, biosafety: the lab management office)."""
    from datetime import timedelta

    from flask import current_app

    from app.rounds import services
    from app.rounds.schemas import RoundInSchema
    from app.timeutil import school_today
    from tests.factories.inspections import make_checklist_version

    w.round_full = make_checklist_version("full")
    w.round_special = make_checklist_version("special")
    today = school_today(current_app.config["SCHOOL_TIMEZONE"])
    start, end = today - timedelta(days=2), today + timedelta(days=5)
    admin, school_insp, college_insp = (w.users[k] for k in ("admin", "school_inspector", "college_inspector"))
    both = {"mode": "list", "lab_ids": [w.lab_a_obj.id, w.lab_b_obj.id]}

    def plan(**kw):
        data = RoundInSchema().load(_body(w, **kw))
        return services.create_round(admin, data, services.plan_facts(data), current_app.config).id

    w.ids["round_school"] = plan(start=start, end=end, labs=both, inspector_ids=[school_insp.id])
    w.ids["round_college_a"] = plan(start=start, end=end, kind="college_monthly", owner_college_id=w.college_a.id,
                                    inspector_ids=[college_insp.id])
    w.ids["round_college_b"] = plan(start=start, end=end, kind="college_monthly", owner_college_id=w.college_b.id)
    w.ids["round_spot"] = plan(start=today + timedelta(days=1), end=today + timedelta(days=8), kind="special",
                               topic="biosafety", checklist_key=w.round_special.checklist.key,
                               labs={"mode": "list", "lab_ids": [w.lab_a_obj.id]}, spot_check=1, seed=7,
                               inspector_ids=[school_insp.id])
    _SCHOOL.clear()
    _SCHOOL.update(_body(w, start=start, end=end, labs=both, inspector_ids=[school_insp.id]))
    _COLLEGE_A.clear()
    _COLLEGE_A.update(_body(w, start=start, end=end, kind="college_monthly", owner_college_id=w.college_a.id,
                            inspector_ids=[college_insp.id]))
    _COLLEGE_B.clear()
    _COLLEGE_B.update(_body(w, start=start, end=end, kind="college_monthly", owner_college_id=w.college_b.id))
    _SPECIAL.clear()
    _SPECIAL.update(_body(w, start=start, end=end, kind="special", topic="biosafety",
                          checklist_key=w.round_special.checklist.key, inspector_ids=[school_insp.id]))
    _ASSIGN_A.clear()
    _ASSIGN_A.update({"assignments": [{"lab_id": w.lab_a_obj.id, "inspector_id": college_insp.id}]})
    _ASSIGN_SCHOOL.clear()
    _ASSIGN_SCHOOL.update({"assignments": [{"lab_id": w.lab_b_obj.id, "inspector_id": school_insp.id}]})


# Recurring round rules: their own module, run after the rounds' world (it uses its checklists).
from tests.rounds import rules_access_cases as _rules  # noqa: E402

CASES += _rules.CASES
_extend_rounds = extend_world


def extend_world(w):  # noqa: F811
    _extend_rounds(w)
    _rules.extend_world(w)

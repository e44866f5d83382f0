"""Access matrix for rounds: who plans, who sees which round (art. 9, 27, 28), the work list."""
from __future__ import annotations

from tests.access.matrix import ADMIN, EVERYONE, Case

PLANNERS = frozenset({"admin", "college_leader", "dept_officer"})  # plan some round (art. 9, 27, 28)

# Bodies filled in by extend_world (they need the world's ids).
_SCHOOL: dict = {}
_COLLEGE_A: dict = {}
_COLLEGE_B: dict = {}
_SPECIAL: dict = {}
_ASSIGN_A: dict = {}
_ASSIGN_SCHOOL: dict = {}
# The planning form's and the reassignment form's bodies (form fields, lists as lists).
_FORM_SCHOOL: dict = {}
_FORM_COLLEGE_A: dict = {}
_FORM_COLLEGE_B: dict = {}
_FORM_SPECIAL: dict = {}
_FORM_ASSIGN_A: dict = {}
_FORM_ASSIGN_SCHOOL: dict = {}

_LABS = "/api/rounds/<int:round_id>/labs"
_ASSIGN = "/api/rounds/<int:round_id>/assignments"
_DRAW = "/api/rounds/<int:round_id>/draw"
_PAGE = "/rounds/<int:round_id>"
_PAGE_ASSIGN = "/rounds/<int:round_id>/assignments"

# Who may plan each round (art. 9, 27, 28): through the API (JSON) and the planning form alike.
_PLANS = [
    (_SCHOOL, _FORM_SCHOOL, ADMIN, "school-wide round, art. 27"),
    (_COLLEGE_A, _FORM_COLLEGE_A, frozenset({"admin", "college_leader"}), "college A's monthly round, art. 28"),
    (_COLLEGE_B, _FORM_COLLEGE_B, ADMIN, "another college's round"),
    (_SPECIAL, _FORM_SPECIAL, frozenset({"admin", "dept_officer"}),
     "special biosafety round, the lab management office's remit, art. 9(1), 27"),
]
# Who sees each round (its labs through the API, its page): the world's round ids.
_VIEWERS = [
    ("round_school", frozenset({"admin", "school_inspector", "lab_officer", "other_officer"}),
     "school round: admin, its inspector, its labs' officers"),
    ("round_college_a", frozenset({"admin", "college_leader", "college_head", "college_inspector", "lab_officer"}),
     "college A's round"),
    ("round_college_b", frozenset({"admin", "other_officer"}), "college B's round, seen from college A"),
    ("round_spot", frozenset({"admin", "school_inspector", "dept_officer"}),
     "unannounced spot check not started: never its lab's officer"),
]
# Who reassigns each round's labs.
_REASSIGN = [
    ("round_college_a", _ASSIGN_A, _FORM_ASSIGN_A, frozenset({"admin", "college_leader"})),
    ("round_school", _ASSIGN_SCHOOL, _FORM_ASSIGN_SCHOOL, ADMIN),
]

CASES = [
    Case("GET", "/api/rounds", "/api/rounds", allow=EVERYONE, note="scoped listing"),
    Case("GET", "/api/me/rounds", "/api/me/rounds", allow=EVERYONE, note="one's own work list"),
    Case("GET", _DRAW, "/api/rounds/{round_spot}/draw", allow=frozenset({"admin", "school_inspector", "dept_officer"}),
         note="the draw of an unannounced round not started"),
    Case("GET", _DRAW, "/api/rounds/{round_school}/draw",
         allow=frozenset({"admin", "school_inspector", "lab_officer", "other_officer"}),
         note="allowed readers get 404: not drawn"),
    *(Case("POST", "/api/rounds", "/api/rounds", json=body, allow=allow, note=note)
      for body, _f, allow, note in _PLANS),
    *(Case("GET", _LABS, f"/api/rounds/{{{key}}}/labs", allow=allow, note=note) for key, allow, note in _VIEWERS),
    *(Case("PATCH", _ASSIGN, f"/api/rounds/{{{key}}}/assignments", json=body, allow=allow)
      for key, body, _f, allow in _REASSIGN),
    # The pages (app/rounds/views.py): the same rules.
    Case("GET", "/rounds", "/rounds", allow=EVERYONE, note="scoped listing"),
    Case("GET", "/rounds/new", "/rounds/new", allow=PLANNERS, note="the planning form: those who plan some round"),
    *(Case("POST", "/rounds/new", "/rounds/new", data=form, allow=allow, note=note)
      for _b, form, allow, note in _PLANS),
    *(Case("GET", _PAGE, f"/rounds/{{{key}}}", allow=allow, note=note) for key, allow, note in _VIEWERS),
    *(Case("POST", _PAGE_ASSIGN, f"/rounds/{{{key}}}/assignments", data=form, allow=allow)
      for key, _b, form, allow in _REASSIGN),
]


def _form(body: dict) -> dict:
    """A JSON round body as the planning form posts it."""
    labs = body.get("labs") or {"mode": "all"}
    form = {k: str(v) for k, v in body.items() if k not in ("labs", "inspector_ids", "topic", "owner_college_id")}
    form.update(labs_mode=labs["mode"], lab_ids=[str(i) for i in labs.get("lab_ids", [])],
                inspector_ids=[str(i) for i in body.get("inspector_ids", [])])
    for key in ("topic", "owner_college_id"):
        if body.get(key) is not None:
            form[key] = str(body[key])
    return form


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
    for form, body in ((_FORM_SCHOOL, _SCHOOL), (_FORM_COLLEGE_A, _COLLEGE_A), (_FORM_COLLEGE_B, _COLLEGE_B),
                       (_FORM_SPECIAL, _SPECIAL)):
        form.clear()
        form.update(_form(body))
    _FORM_ASSIGN_A.clear()
    _FORM_ASSIGN_A.update({"lab_ids": [str(w.lab_a_obj.id)], "inspector_id": ""})  # unassign
    _FORM_ASSIGN_SCHOOL.clear()
    _FORM_ASSIGN_SCHOOL.update({"lab_ids": [str(w.lab_b_obj.id)], "inspector_id": ""})


# Recurring round rules: their own module, run after the rounds' world (it uses its checklists).
from tests.rounds import rules_access_cases as _rules  # noqa: E402

CASES += _rules.CASES
_extend_rounds = extend_world


def extend_world(w):  # noqa: F811
    _extend_rounds(w)
    _rules.extend_world(w)

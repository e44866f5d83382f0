"""Access matrix for accidents (art. 31-33): anyone with a role in the lab's college or a school-wide role
reports; the readers of a college's accidents are its people and the school's (never another college's);
the unit's leader and head file its report; the school office grades, investigates and closes."""
from __future__ import annotations

from tests.access.matrix import ADMIN, EVERYONE, LAB_A_READERS, LAB_B_READERS, Case

_BODY_A: dict = {}
_BODY_B: dict = {}
_FORM_A: dict = {}
# Lab A1's college: everyone but the officer of college B's lab.
_REPORT_A = LAB_A_READERS
_REPORT_B = LAB_B_READERS
_UNIT_A = frozenset({"admin", "college_leader", "college_head"})
_COLLEGE_A_REPORT = frozenset({"admin", "school_inspector", "dept_officer", "college_leader", "college_head"})
_ONE = "/api/accidents/<int:accident_id>"
_PAGE = "/accidents/<int:accident_id>"
_UNIT = {"summary": "经过"}
_INQUIRY = {"summary": "调查经过", "nature": "责任事故", "responsibility": "操作不当"}

CASES = [
    Case("GET", "/api/accidents", "/api/accidents", allow=EVERYONE, note="scoped by accident_clause"),
    Case("POST", "/api/accidents", "/api/accidents", json=_BODY_A, allow=_REPORT_A, note="lab A1, art. 31"),
    Case("GET", "/api/accidents/labs", "/api/accidents/labs", allow=EVERYONE, note="every role reports in some lab"),
    Case("POST", "/api/accidents", "/api/accidents", json=_BODY_B, allow=_REPORT_B, note="lab B1 (college B)"),
    Case("GET", _ONE, "/api/accidents/{accident_a}", allow=LAB_A_READERS),
    Case("GET", _ONE, "/api/accidents/{accident_b}", allow=LAB_B_READERS, note="another college's"),
    Case("GET", _ONE + "/events", "/api/accidents/{accident_a}/events", allow=LAB_A_READERS),
    Case("GET", _ONE + "/events", "/api/accidents/{accident_b}/events", allow=LAB_B_READERS),
    Case("GET", _ONE + "/reports", "/api/accidents/{accident_a}/reports", allow=LAB_A_READERS),
    Case("GET", _ONE + "/reports", "/api/accidents/{accident_b}/reports", allow=LAB_B_READERS),
    Case("POST", _ONE + "/grade", "/api/accidents/{accident_a}/grade", json={"grade": "III"}, allow=ADMIN),
    Case("POST", _ONE + "/reports/<kind>", "/api/accidents/{accident_a}/reports/unit", json=_UNIT, allow=_UNIT_A),
    Case("POST", _ONE + "/reports/<kind>", "/api/accidents/{accident_b}/reports/unit", json=_UNIT, allow=ADMIN,
         note="another college's unit report"),
    Case("POST", _ONE + "/reports/<kind>", "/api/accidents/{accident_a}/reports/investigation", json=_INQUIRY,
         allow=ADMIN, note="art. 32: the school's team"),
    Case("POST", _ONE + "/close", "/api/accidents/{accident_a}/close", json={}, allow=ADMIN),
    Case("GET", "/api/colleges/<int:college_id>/accident-veto", "/api/colleges/{college_a}/accident-veto",
         allow=_COLLEGE_A_REPORT, note="art. 5, as the college's report"),
    Case("GET", "/accidents", "/accidents", allow=EVERYONE),
    Case("GET", "/accidents/new", "/accidents/new", allow=EVERYONE, note="every role reports in some lab"),
    Case("POST", "/accidents/new", "/accidents/new", data=_FORM_A, allow=_REPORT_A),
    Case("GET", "/app/accidents/new", "/app/accidents/new", allow=EVERYONE, note="the phone's shell page"),
    Case("GET", _PAGE, "/accidents/{accident_a}", allow=LAB_A_READERS),
    Case("GET", _PAGE, "/accidents/{accident_b}", allow=LAB_B_READERS),
    Case("POST", _PAGE + "/grade", "/accidents/{accident_a}/grade", data={"grade": "III"}, allow=ADMIN),
    Case("POST", _PAGE + "/reports/<kind>", "/accidents/{accident_a}/reports/unit", data=_UNIT, allow=_UNIT_A),
    Case("POST", _PAGE + "/reports/<kind>", "/accidents/{accident_a}/reports/investigation", data=_INQUIRY,
         allow=ADMIN),
    Case("POST", _PAGE + "/close", "/accidents/{accident_a}/close", data={}, allow=ADMIN),
    Case("GET", _PAGE + "/reports/<kind>.pdf", "/accidents/{accident_a}/reports/unit.pdf", allow=LAB_A_READERS,
         note="404 before the report is filed"),
    Case("GET", _PAGE + "/reports/<kind>.pdf", "/accidents/{accident_b}/reports/unit.pdf", allow=LAB_B_READERS),
]


def extend_world(w):
    """An accident in lab A1 and one in lab B1, both reported by the school office (no reader by authorship)."""
    from tests.factories.accidents import accident_body, make_accident

    admin = w.users["admin"]
    w.ids["accident_a"] = make_accident(admin, w.lab_a_obj).id
    w.ids["accident_b"] = make_accident(admin, w.lab_b_obj).id
    _BODY_A.clear()
    _BODY_A.update(accident_body(w.lab_a_obj))
    _BODY_B.clear()
    _BODY_B.update(accident_body(w.lab_b_obj))
    _FORM_A.clear()
    _FORM_A.update({"client_uuid": _BODY_A["client_uuid"], "lab_code": w.lab_a_obj.code,
                    "occurred_at": "2026-01-05T10:00", "description": "火情", "light_injuries": "0"})

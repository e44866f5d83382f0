"""Access matrix for hazard reports (issue 24, art. 30): anyone signed in reports; a reporter sees their
own; the lab's officers, its college and the school see the lab's; another college's people never do."""
from __future__ import annotations

from tests.access.matrix import EVERYONE, PUBLIC, Case

_REPORT = "/api/hazard-reports/<int:report_id>"
_PAGE = "/hazards/<int:report_id>"
# report_a: lab A1, reported by B1's officer (who sees it as its reporter); report_b: lab B1, by the admin.
VIEW_A = frozenset({"admin", "school_inspector", "college_inspector", "college_leader", "college_head", "lab_officer",
                    "other_officer"})
VIEW_B = frozenset({"admin", "school_inspector", "other_officer"})
TRIAGE_A = frozenset({"admin", "college_leader", "lab_officer"})
TRIAGE_B = frozenset({"admin", "other_officer"})
_NEW: dict = {}

CASES = [
    Case("POST", "/api/hazard-reports", "/api/hazard-reports", allow=EVERYONE, json=_NEW,
         note="anyone signed in reports (art. 30); later roles replay another's UUID: 409"),
    Case("GET", "/api/hazard-reports", "/api/hazard-reports", allow=EVERYONE, note="scoped listing"),
    Case("GET", "/hazards", "/hazards", allow=EVERYONE, note="scoped listing"),
    Case("GET", "/hazards/door/<token>", "/hazards/door/{token_a}", allow=EVERYONE,
         note="without an account only where HAZARD_ANONYMOUS_REPORTS is on (off here: to login)"),
    Case("POST", "/hazards/door/<token>", "/hazards/door/{token_a}", allow=EVERYONE, data={}),
    Case("GET", "/hazards/receipt/<receipt>", "/hazards/receipt/0123456789abcdef", allow=PUBLIC,
         note="a receipt shows its own report's outcome only (unknown: 404)"),
]
for key, view, triage in (("report_a", VIEW_A, TRIAGE_A), ("report_b", VIEW_B, TRIAGE_B)):
    CASES += [
        Case("GET", _REPORT, f"/api/hazard-reports/{{{key}}}", allow=view),
        Case("GET", _PAGE, f"/hazards/{{{key}}}", allow=view),
        Case("POST", _REPORT + "/close", f"/api/hazard-reports/{{{key}}}/close", allow=triage, json={},
             note="allowed: 400, no reason"),
        Case("POST", _PAGE + "/close", f"/hazards/{{{key}}}/close", allow=triage, data={}),
        Case("POST", _REPORT + "/open-ticket", f"/api/hazard-reports/{{{key}}}/open-ticket", allow=triage, json={},
             note="the first allowed opens the ticket, the others get 409"),
        Case("POST", _PAGE + "/open-ticket", f"/hazards/{{{key}}}/open-ticket", allow=triage, data={}),
    ]


def extend_world(w):
    from tests.factories.hazards import make_report

    w.ids["report_a"] = make_report(w.lab_a_obj, w.users["other_officer"]).id
    w.ids["report_b"] = make_report(w.lab_b_obj, w.users["admin"]).id
    _NEW.update({"lab_id": w.lab_a_obj.id, "text": "通风橱不工作",
                 "client_uuid": "5a1d0c3e-0000-4000-8000-000000000024"})

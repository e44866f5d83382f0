"""Access matrix for the lab access roster (准入, art. 12-13): a lab's readers read its roster (a college's
people never another college's), its officer (and the school office) keeps it, its inspectors record
a person without valid access (art. 13(3))."""
from __future__ import annotations

from tests.access.matrix import LAB_A_INSPECTORS, LAB_A_READERS, LAB_B_INSPECTORS, LAB_B_READERS, Case

KEEPERS_A = frozenset({"admin", "lab_officer"})
KEEPERS_B = frozenset({"admin", "other_officer"})

_API = "/api/labs/<int:lab_id>/roster"
_API_ENTRY = "/api/labs/<int:lab_id>/roster/<int:entry_id>"
_PAGE = "/labs/<int:lab_id>/roster"
_PAGE_ENTRY = "/labs/<int:lab_id>/roster/<int:entry_id>"
_NEW = {"name": "测试", "staff_no": "ACL-1", "exam_passed": True}

CASES = []
for lab, entry, readers, keepers, finders in (
    ("lab_a", "roster_a", LAB_A_READERS, KEEPERS_A, LAB_A_INSPECTORS),
    ("lab_b", "roster_b", LAB_B_READERS, KEEPERS_B, LAB_B_INSPECTORS),
):
    base, one = f"/api/labs/{{{lab}}}/roster", f"/api/labs/{{{lab}}}/roster/{{{entry}}}"
    page, page_one = f"/labs/{{{lab}}}/roster", f"/labs/{{{lab}}}/roster/{{{entry}}}"
    CASES += [
        Case("GET", _API, base, allow=readers, note="the roster: the lab's readers"),
        Case("POST", _API, base, json=_NEW, allow=keepers, note="add: the lab's officer, art. 10(3)"),
        Case("PATCH", _API_ENTRY, one, json={"exam_score": 80}, allow=keepers),
        Case("POST", _API_ENTRY + "/revoke", one + "/revoke", json={}, allow=keepers),
        Case("PUT", _API + "/settings", base + "/settings", json={"training_required": False}, allow=keepers),
        Case("POST", _API + "/import", base + "/import", data={}, allow=keepers, note="no file: a 400 when allowed"),
        Case("POST", _API + "/findings", base + "/findings", json={"client_uuid": "x"}, allow=finders,
             note="art. 13(3): the lab's inspectors; a bad body is a 400 when allowed"),
        Case("GET", _PAGE, page, allow=readers),
        Case("POST", _PAGE, page, data={"name": ""}, allow=keepers),
        Case("GET", _PAGE_ENTRY, page_one, allow=keepers),
        Case("POST", _PAGE_ENTRY, page_one, data={"name": "测试"}, allow=keepers),
        Case("POST", _PAGE_ENTRY + "/revoke", page_one + "/revoke", data={}, allow=keepers),
        Case("POST", _PAGE + "/settings", page + "/settings", data={}, allow=keepers),
        Case("POST", _PAGE + "/import", page + "/import", data={}, allow=keepers),
    ]


def extend_world(w):
    from tests.factories.roster import make_entry

    w.ids["roster_a"] = make_entry(w.lab_a_obj, staff_no="A-1").id
    w.ids["roster_b"] = make_entry(w.lab_b_obj, staff_no="B-1").id

"""Access matrix for inspections: submit at each level, read in and out of scope."""
from __future__ import annotations

from tests.access.matrix import LAB_A_READERS, LAB_B_READERS, Case

# Bodies are filled in by extend_world (they need the world's ids); each role runs in a fresh world.
_COLLEGE_A: dict = {}
_COLLEGE_B: dict = {}
_DAILY_A: dict = {}
_SCHOOL_B: dict = {}

CASES = [
    Case("POST", "/api/inspections", "/api/inspections", json=_COLLEGE_A,
         allow=frozenset({"admin", "college_inspector", "college_leader"}), note="college monthly in A1, art. 28"),
    Case("POST", "/api/inspections", "/api/inspections", json=_COLLEGE_B, allow=frozenset({"admin"}),
         note="college monthly in another college's lab"),
    Case("POST", "/api/inspections", "/api/inspections", json=_DAILY_A, allow=frozenset({"lab_officer"}),
         note="daily check in A1, art. 29"),
    Case("POST", "/api/inspections", "/api/inspections", json=_SCHOOL_B,
         allow=frozenset({"admin", "school_inspector"}), note="school inspection in B1, art. 27"),
    Case("GET", "/api/inspections/<int:inspection_id>", "/api/inspections/{insp_a}", allow=LAB_A_READERS),
    Case("GET", "/api/inspections/<int:inspection_id>", "/api/inspections/{insp_b}", allow=LAB_B_READERS,
         note="guessing another college's inspection id"),
    Case("GET", "/inspections/<int:inspection_id>", "/inspections/{insp_a}", allow=LAB_A_READERS),
    Case("GET", "/inspections/<int:inspection_id>", "/inspections/{insp_b}", allow=LAB_B_READERS),
    Case("GET", "/api/labs/<int:lab_id>/inspections", "/api/labs/{lab_a}/inspections", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>/inspections", "/api/labs/{lab_b}/inspections", allow=LAB_B_READERS),
]


def _payload(body: dict, uuid: str, lab, version, level: str) -> None:
    from tests.factories.inspections import inspection_payload

    body.clear()
    body.update(inspection_payload(lab, version, level=level, uuid=uuid))


def extend_world(w):
    """An inspection with a failed item and its photo in lab A1 (by A's college inspector) and in
    lab B1 (a school inspection by the school inspector); bodies for the submit cases."""
    from tests.factories.inspections import make_checklist_version, make_inspection, photo_bytes

    w.insp_full = make_checklist_version("full")
    w.insp_daily = make_checklist_version("daily")
    insp_a, photo_a = make_inspection(w.users["college_inspector"], w.lab_a_obj, w.insp_full,
                                      fail_with_photo=photo_bytes(seed=11))
    insp_b, photo_b = make_inspection(w.users["school_inspector"], w.lab_b_obj, w.insp_full, level="school",
                                      fail_with_photo=photo_bytes(seed=12))
    w.ids.update(insp_a=insp_a.id, insp_b=insp_b.id, insp_photo_a=photo_a.uuid, insp_photo_b=photo_b.uuid)
    w.ids.setdefault("inspection_a", insp_a.id)  # the name tests/fuzz looks for
    w.ids.setdefault("inspection_b", insp_b.id)
    _payload(_COLLEGE_A, "4a0e8f1c-0000-4000-8000-00000000000a", w.lab_a_obj, w.insp_full, "college")
    _payload(_COLLEGE_B, "4a0e8f1c-0000-4000-8000-00000000000b", w.lab_b_obj, w.insp_full, "college")
    _payload(_DAILY_A, "4a0e8f1c-0000-4000-8000-00000000000c", w.lab_a_obj, w.insp_daily, "daily")
    _payload(_SCHOOL_B, "4a0e8f1c-0000-4000-8000-00000000000d", w.lab_b_obj, w.insp_full, "school")

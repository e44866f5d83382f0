from datetime import date

from tests.access.matrix import ADMIN, EVERYONE, LAB_A_READERS, LAB_B_READERS, Case

# Holiday closures: the school office any lab, college A's leader college A's (issue 22).
CLOSERS_A = frozenset({"admin", "college_leader"})
# A lab's daily-check designees (art. 29): named by its officer (and the school office).
DESIGNATORS_A = frozenset({"admin", "lab_officer"})
DESIGNATORS_B = frozenset({"admin", "other_officer"})
# Risk grade I-IV (MOE 2024 measures): the school admin or the leader of the lab's college assesses;
# everyone who sees the lab reads it (its officers, inspectors, the college's oversight).
RISK_A_ASSESSORS = frozenset({"admin", "college_leader"})

CASES = [
    Case("GET", "/", "/", allow=EVERYONE),
    # Anyone signed in lands on the lab's card, where they may report a hazard (art. 30, issue 24).
    Case("GET", "/l/<token>", "/l/{token_a}", allow=EVERYONE, note="QR of lab A1"),
    Case("GET", "/l/<token>", "/l/{token_b}", allow=EVERYONE, note="QR of another college's lab"),
    Case("GET", "/labs/<int:lab_id>", "/labs/{lab_a}", allow=LAB_A_READERS),
    Case("GET", "/labs/<int:lab_id>", "/labs/{lab_b}", allow=LAB_B_READERS, note="guessing another college's lab id"),
    Case("GET", "/api/labs", "/api/labs", allow=EVERYONE),
    Case("GET", "/api/labs/<int:lab_id>", "/api/labs/{lab_a}", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>", "/api/labs/{lab_b}", allow=LAB_B_READERS),
    Case("GET", "/api/qr/<token>", "/api/qr/{token_a}", allow=LAB_A_READERS),
    Case("GET", "/api/qr/<token>", "/api/qr/{token_b}", allow=LAB_B_READERS),
    Case("GET", "/labs/<int:lab_id>/risk", "/labs/{lab_a}/risk", allow=LAB_A_READERS),
    Case("GET", "/labs/<int:lab_id>/risk", "/labs/{lab_b}/risk", allow=LAB_B_READERS),
    Case("POST", "/labs/<int:lab_id>/risk", "/labs/{lab_a}/risk", allow=RISK_A_ASSESSORS, data={},
         note="no answers: 400"),
    Case("POST", "/labs/<int:lab_id>/risk", "/labs/{lab_b}/risk", allow=ADMIN, data={},
         note="another college's lab: only the school admin"),
    Case("GET", "/api/labs/<int:lab_id>/risk", "/api/labs/{lab_a}/risk", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>/risk", "/api/labs/{lab_b}/risk", allow=LAB_B_READERS),
    Case("POST", "/api/labs/<int:lab_id>/risk-assessment", "/api/labs/{lab_a}/risk-assessment",
         allow=RISK_A_ASSESSORS, json={"answers": {}}, note="no answers: 400"),
    Case("POST", "/api/labs/<int:lab_id>/risk-assessment", "/api/labs/{lab_b}/risk-assessment", allow=ADMIN,
         json={"answers": {}}),
    # School-admin pages (art. 9(1)): only the school admin, whatever the college. College A's
    # leader and lab A1's officer are refused even for their own college and lab.
    Case("GET", "/admin/", "/admin/", allow=ADMIN),
    Case("GET", "/admin/colleges", "/admin/colleges", allow=ADMIN),
    Case("POST", "/admin/colleges", "/admin/colleges", allow=ADMIN, data={"code": ""}, note="empty form: 400"),
    Case("GET", "/admin/colleges/<int:college_id>", "/admin/colleges/{college_a}", allow=ADMIN),
    Case("GET", "/admin/colleges/<int:college_id>", "/admin/colleges/{college_b}", allow=ADMIN),
    Case("POST", "/admin/colleges/<int:college_id>", "/admin/colleges/{college_a}", allow=ADMIN, data={"code": ""}),
    Case("POST", "/admin/colleges/<int:college_id>", "/admin/colleges/{college_b}", allow=ADMIN, data={"code": ""}),
    Case("GET", "/admin/departments", "/admin/departments", allow=ADMIN),
    Case("POST", "/admin/departments", "/admin/departments", allow=ADMIN, data={"code": ""}),
    Case(
        "GET",
        "/admin/departments/<int:department_id>",
        "/admin/departments/{dept}",
        allow=ADMIN,
        note="dept_officer's own department",
    ),
    Case("POST", "/admin/departments/<int:department_id>", "/admin/departments/{dept}", allow=ADMIN, data={"code": ""}),
    Case("GET", "/admin/labs", "/admin/labs", allow=ADMIN),
    Case("GET", "/admin/labs/new", "/admin/labs/new", allow=ADMIN),
    Case("POST", "/admin/labs/new", "/admin/labs/new", allow=ADMIN, data={"code": ""}),
    Case("GET", "/admin/labs/<int:lab_id>", "/admin/labs/{lab_a}", allow=ADMIN),
    Case("GET", "/admin/labs/<int:lab_id>", "/admin/labs/{lab_b}", allow=ADMIN),
    Case("POST", "/admin/labs/<int:lab_id>", "/admin/labs/{lab_a}", allow=ADMIN, data={"code": ""}),
    Case("POST", "/admin/labs/<int:lab_id>", "/admin/labs/{lab_b}", allow=ADMIN, data={"code": ""}),
    Case(
        "POST", "/admin/labs/<int:lab_id>/officers", "/admin/labs/{lab_a}/officers", allow=ADMIN, data={"username": ""}
    ),
    Case(
        "POST", "/admin/labs/<int:lab_id>/officers", "/admin/labs/{lab_b}/officers", allow=ADMIN, data={"username": ""}
    ),
    Case("POST", "/admin/labs/<int:lab_id>/closures", "/admin/labs/{lab_a}/closures", allow=ADMIN, data={}),
    Case("POST", "/admin/labs/<int:lab_id>/closures", "/admin/labs/{lab_b}/closures", allow=ADMIN, data={}),
    Case(
        "POST",
        "/admin/labs/<int:lab_id>/closures/<int:closure_id>/delete",
        "/admin/labs/{lab_a}/closures/{closure_a}/delete",
        allow=ADMIN,
    ),
    Case(
        "POST",
        "/admin/labs/<int:lab_id>/closures/<int:closure_id>/delete",
        "/admin/labs/{lab_b}/closures/{closure_a}/delete",
        allow=ADMIN,
        note="another lab's closure: 404",
    ),
    Case(
        "POST",
        "/admin/labs/<int:lab_id>/qr",
        "/admin/labs/{lab_b}/qr",
        allow=ADMIN,
        note="re-issues lab B1's code (lab A1's token stays valid for the other cases)",
    ),
    Case("GET", "/admin/import", "/admin/import", allow=ADMIN),
    Case(
        "POST", "/admin/import/<any(labs, users):kind>", "/admin/import/labs", allow=ADMIN, data={}, note="no file: 400"
    ),
    Case("POST", "/admin/import/<any(labs, users):kind>", "/admin/import/users", allow=ADMIN, data={}),
    Case("GET", "/admin/import/example/<any(labs, users):kind>.csv", "/admin/import/example/labs.csv", allow=ADMIN),
    # The links are credentials of users imported without a password: the school admin only.
    Case("GET", "/admin/import/set-password-links.csv", "/admin/import/set-password-links.csv", allow=ADMIN),
    # User administration (art. 9(1)): the school admin only. Targets are college A's lab officer
    # (in scope for college A's leader, still refused) and college B's officer (out of scope).
    Case("GET", "/admin/users", "/admin/users", allow=ADMIN),
    Case("GET", "/admin/users/new", "/admin/users/new", allow=ADMIN),
    Case("POST", "/admin/users/new", "/admin/users/new", allow=ADMIN, data={"username": ""}, note="empty form: 400"),
    Case("GET", "/admin/users/<int:user_id>", "/admin/users/{user_lab_officer}", allow=ADMIN),
    Case("GET", "/admin/users/<int:user_id>", "/admin/users/{user_other_officer}", allow=ADMIN),
    Case("POST", "/admin/users/<int:user_id>", "/admin/users/{user_lab_officer}", allow=ADMIN, data={"name": ""}),
    Case("POST", "/admin/users/<int:user_id>", "/admin/users/{user_other_officer}", allow=ADMIN, data={"name": ""}),
    Case("POST", "/admin/users/<int:user_id>/active", "/admin/users/{user_lab_officer}/active", allow=ADMIN,
         data={"active": "0"}, note="last officer of lab A1: 409"),
    Case("POST", "/admin/users/<int:user_id>/active", "/admin/users/{user_other_officer}/active", allow=ADMIN,
         data={"active": "0"}, note="last officer of lab B1: 409"),
    Case("POST", "/admin/users/<int:user_id>/password", "/admin/users/{user_lab_officer}/password", allow=ADMIN,
         data={"password": "short"}, note="too short: 400"),
    Case("POST", "/admin/users/<int:user_id>/password", "/admin/users/{user_other_officer}/password", allow=ADMIN,
         data={"password": "short"}),
    Case("POST", "/admin/users/<int:user_id>/roles", "/admin/users/{user_lab_officer}/roles", allow=ADMIN, data={}),
    Case("POST", "/admin/users/<int:user_id>/roles", "/admin/users/{user_other_officer}/roles", allow=ADMIN, data={}),
    Case("POST", "/admin/users/<int:user_id>/roles/<int:assignment_id>/revoke",
         "/admin/users/{user_lab_officer}/roles/{role_lab_officer}/revoke", allow=ADMIN, note="last officer: 409"),
    Case("POST", "/admin/users/<int:user_id>/roles/<int:assignment_id>/revoke",
         "/admin/users/{user_other_officer}/roles/{role_other_officer}/revoke", allow=ADMIN, note="last officer: 409"),
    # Holiday closures in bulk (issue 22).
    Case("GET", "/closures", "/closures", allow=CLOSERS_A),
    Case("POST", "/closures", "/closures", allow=CLOSERS_A, data={}, note="empty form: 400"),
    Case("POST", "/closures/<int:batch_id>/reopen", "/closures/{batch_a}/reopen", allow=CLOSERS_A),
    Case("POST", "/closures/<int:batch_id>/reopen", "/closures/{batch_b}/reopen", allow=ADMIN,
         note="another college's closure"),
    Case("GET", "/api/closures", "/api/closures", allow=CLOSERS_A),
    Case("POST", "/api/closures", "/api/closures", allow=CLOSERS_A, json={}, note="empty body: 400"),
    Case("POST", "/api/closures/<int:batch_id>/reopen", "/api/closures/{batch_a}/reopen", allow=CLOSERS_A, json={}),
    Case("POST", "/api/closures/<int:batch_id>/reopen", "/api/closures/{batch_b}/reopen", allow=ADMIN, json={}),
    # Daily-check designees (art. 29).
    Case("GET", "/api/labs/<int:lab_id>/designees", "/api/labs/{lab_a}/designees", allow=LAB_A_READERS),
    Case("GET", "/api/labs/<int:lab_id>/designees", "/api/labs/{lab_b}/designees", allow=LAB_B_READERS),
    Case("POST", "/api/labs/<int:lab_id>/designate", "/api/labs/{lab_a}/designate", allow=DESIGNATORS_A, json={}),
    Case("POST", "/api/labs/<int:lab_id>/designate", "/api/labs/{lab_b}/designate", allow=DESIGNATORS_B, json={}),
    Case("POST", "/api/designees/<int:designation_id>/revoke", "/api/designees/{designee_a}/revoke",
         allow=DESIGNATORS_A),
    Case("POST", "/api/designees/<int:designation_id>/revoke", "/api/designees/{designee_b}/revoke",
         allow=DESIGNATORS_B),
    Case("POST", "/labs/<int:lab_id>/designees", "/labs/{lab_a}/designees", allow=DESIGNATORS_A, data={}),
    Case("POST", "/labs/<int:lab_id>/designees", "/labs/{lab_b}/designees", allow=DESIGNATORS_B, data={}),
    Case("POST", "/designees/<int:designation_id>/revoke", "/designees/{designee_a}/revoke", allow=DESIGNATORS_A),
    Case("POST", "/designees/<int:designation_id>/revoke", "/designees/{designee_b}/revoke", allow=DESIGNATORS_B),
]


def extend_world(w):
    from app.extensions import db
    from app.org.models import LabClosure

    closure = LabClosure(lab_id=w.lab_a_obj.id, start_date=date(2027, 1, 18), end_date=date(2027, 2, 21), reason="寒假")
    db.session.add(closure)
    db.session.commit()
    w.ids["closure_a"] = closure.id
    w.ids["dept"] = w.dept.id
    w.ids["user_other_officer"] = w.users["other_officer"].id
    w.ids["role_lab_officer"] = w.users["lab_officer"].roles[0].id
    w.ids["role_other_officer"] = w.users["other_officer"].roles[0].id
    _closures_and_designees(w)


def _closures_and_designees(w):
    from datetime import datetime

    from app.extensions import db
    from app.org.models import DailyCheckDesignee, LabClosure, LabClosureBatch
    from tests.factories import make_user

    now = datetime(2026, 6, 1)
    helper = make_user(name="值日学生")  # no role: designated only
    for key, lab in (("a", w.lab_a_obj), ("b", w.lab_b_obj)):
        batch = LabClosureBatch(scope="labs", scope_value="1", start_date=date(2027, 7, 1), end_date=date(2027, 8, 31),
                                reason="暑假", lab_count=1, created_at=now)
        db.session.add(batch)
        db.session.flush()
        db.session.add(LabClosure(lab_id=lab.id, start_date=batch.start_date, end_date=batch.end_date, reason="暑假",
                                  batch_id=batch.id, created_at=now))
        designee = DailyCheckDesignee(lab_id=lab.id, user_id=helper.id, named_at=now)
        db.session.add(designee)
        db.session.flush()
        w.ids[f"batch_{key}"], w.ids[f"designee_{key}"] = batch.id, designee.id
    db.session.commit()

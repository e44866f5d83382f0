"""Benchmark: a night's planning from recurring round rules (issue 22), 500 and 5,000 labs.

    .venv/bin/python -m bench.round_rules                 # SQLite (a file under a temp dir)
    .venv/bin/python -m bench.round_rules --pg postgresql://postgres@127.0.0.1:5432/postgres

Ten colleges whatever the number of labs (the statements depend on rules and periods, not labs),
their labs graded 10 % I, 20 % II, 30 % III, 30 % IV, 10 % not yet; each college has a monthly rule
and a rule by risk grade, and the school a semester rule of every lab: 21 rules. The night after
30 September 2026 plans October (the month, its first half, the week from 28 September, the autumn
semester): 41 rounds. Then the next night, with nothing new to plan. Time and SQL statements of
``rules.plan_due_rounds`` for both; the statement counts must be the same for 500 and 5,000 labs.
"""
from __future__ import annotations

import tempfile
import time
from datetime import date, datetime

from sqlalchemy import event, insert

from bench.scratch import main_by_lab_count

N_COLLEGES = 10
NIGHT = date(2026, 9, 30)
GRADES = ["I"] * 1 + ["II"] * 2 + ["III"] * 3 + ["IV"] * 3 + [None]


def seed(n_labs: int) -> None:
    from app.auth.models import RoleAssignment, User
    from app.checklists.models import Checklist, ChecklistVersion
    from app.extensions import db
    from app.org.models import College, Lab
    from app.rounds.models import RoundRule

    created = datetime(2025, 1, 1)
    db.session.execute(insert(College.__table__), [
        {"id": c, "code": f"C{c:03d}", "name": f"学院{c}", "kind": "college", "active": True}
        for c in range(1, N_COLLEGES + 1)])
    db.session.execute(insert(Lab.__table__), [
        {"id": lab, "code": f"L{lab:05d}", "name": f"实验室{lab}", "building": f"楼{lab % 7}", "floor": str(lab % 6),
         "room": str(lab), "college_id": (lab - 1) % N_COLLEGES + 1, "category": "chemistry", "hazard_tags": [],
         "phone": "", "active": True, "qr_token": f"t{lab}", "created_at": created,
         "risk_level": GRADES[(lab // N_COLLEGES) % len(GRADES)]} for lab in range(1, n_labs + 1)])
    admin, school = 1, 2
    db.session.execute(insert(User.__table__), [
        {"id": u, "username": f"u{u}", "name": f"用户{u}", "password_hash": "x", "active": True, "session_version": 1,
         "created_at": created} for u in range(1, 3 + N_COLLEGES)])
    db.session.execute(insert(RoleAssignment.__table__), [
        {"user_id": admin, "role": "school_admin", "college_id": None},
        {"user_id": school, "role": "inspector", "college_id": None}]
        + [{"user_id": 2 + c, "role": "inspector", "college_id": c} for c in range(1, N_COLLEGES + 1)])
    db.session.execute(insert(Checklist.__table__).values(id=1, key="full", kind="full", title="full"))
    db.session.execute(insert(ChecklistVersion.__table__).values(
        id=1, checklist_id=1, number=1, content_hash="full", title="full", source_file="full.toml", loaded_at=created))
    rule = {"topic": None, "department_id": None, "selection": {"mode": "all"}, "lead_days": 0, "paused": False,
            "created_by_id": admin, "created_at": created}
    rows = [{**rule, "title": "学期检查", "kind": "school_wide", "owner_college_id": None, "checklist_key": "full",
             "inspector_ids": [school], "recurrence": "semester"}]
    for c in range(1, N_COLLEGES + 1):
        for recurrence, key in (("monthly", "full"), ("by_risk", None)):
            rows.append({**rule, "title": f"学院{c}检查", "kind": "college_monthly", "owner_college_id": c,
                         "checklist_key": key, "inspector_ids": [2 + c], "recurrence": recurrence})
    db.session.execute(insert(RoundRule.__table__), rows)
    db.session.commit()


def measure(uri: str, n_labs: int, is_pg: bool) -> dict:
    from app import create_app
    from app.extensions import db
    from app.rounds import rules

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=tempfile.mkdtemp(prefix="labsafe-bench-"),
                     SEMESTERS="2026-09-07:2027-01-17,2027-03-01:2027-07-04")
    with app.app_context():
        db.create_all()
        seed(n_labs)
        statements = {"n": 0}

        def count(*_a):
            statements["n"] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        out = {"labs": n_labs}
        for label, day in (("first_night", NIGHT), ("next_night", date(2026, 10, 1))):
            statements["n"] = 0
            t = time.perf_counter()
            result = rules.plan_due_rounds(day, app.config)
            db.session.commit()
            out[label] = {"seconds": round(time.perf_counter() - t, 3), "statements": statements["n"], **result}
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
        db.engine.dispose()
    return out


def main(argv=None):
    main_by_lab_count(measure, "round_rules", __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    main()

"""Benchmark: the rounds' figures for 5,000 labs and 200 rounds (issue 22).

    .venv/bin/python -m bench.rounds                      # SQLite (a file under a temp dir), 500 and 5,000 labs
    .venv/bin/python -m bench.rounds --pg postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.rounds --labs 5000          # one size only

For each size: colleges of 50 labs, 20 school inspectors and an inspector per college, 90 days of
daily checks on ~90 % of lab-days, and 200 rounds in those 90 days: 10 school-wide of every lab
(spread over the school inspectors), 100 college monthly of their college's labs and 90 special
spot checks of 50 labs each; ~70 % of round labs inspected inside their window (some twice, some
by someone not assigned). Then time, and count the SQL statements of: planned / done for all 200
rounds (``counts``), the admin's round list (``list_rounds``), an inspector's work list
(``work_list``), the nightly round step over windows all ended (``nightly.flag_late``) and the
dashboards' round figures (``round_figures``: planned / done / late per round and per college, six
months, as the monthly summary and GET /api/reports/rounds ask them), school-wide and for one
college. The statement counts must be the same for 500 and 5,000 labs.
"""
from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert

from bench.scratch import main_by_lab_count

TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY = date(2026, 9, 1)
DAYS = 90
N_ROUNDS = {"school_wide": 10, "college_monthly": 100, "special": 90}


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)


def seed(n_labs: int, rnd: random.Random) -> dict:
    from app.auth.models import RoleAssignment, User
    from app.checklists.models import Checklist, ChecklistVersion
    from app.extensions import db
    from app.inspections.models import Inspection
    from app.org.models import College, Lab
    from app.rounds.models import InspectionRound, RoundLab

    def bulk(model, rows):
        for i in range(0, len(rows), 50_000):
            db.session.execute(insert(model.__table__), rows[i:i + 50_000])
        return len(rows)

    n_colleges = max(1, n_labs // 50)
    created = datetime(2025, 1, 1)
    bulk(College, [{"id": c, "code": f"C{c:03d}", "name": f"学院{c}", "kind": "college", "active": True}
                   for c in range(1, n_colleges + 1)])
    bulk(Lab, [{"id": lab, "code": f"L{lab:05d}", "name": f"实验室{lab}", "building": f"楼{lab % 7}",
                "floor": str(lab % 6), "room": str(lab), "college_id": (lab - 1) % n_colleges + 1,
                "category": "chemistry", "hazard_tags": [], "phone": "", "active": True, "qr_token": f"t{lab}",
                "created_at": created} for lab in range(1, n_labs + 1)])
    school = list(range(1, 21))
    college_insp = {c: 20 + c for c in range(1, n_colleges + 1)}
    admin = 21 + n_colleges
    bulk(User, [{"id": u, "username": f"u{u}", "name": f"检查员{u}", "password_hash": "x", "active": True,
                 "session_version": 1, "created_at": created} for u in range(1, admin + 1)])
    bulk(RoleAssignment, [{"user_id": u, "role": "inspector"} for u in school]
         + [{"user_id": u, "role": "inspector", "college_id": c} for c, u in college_insp.items()]
         + [{"user_id": admin, "role": "school_admin"}])
    for cid, key, kind in ((1, "daily", "daily"), (2, "full", "full"), (3, "fire", "special")):
        db.session.execute(insert(Checklist.__table__).values(id=cid, key=key, kind=kind, title=key))
        db.session.execute(insert(ChecklistVersion.__table__).values(
            id=cid, checklist_id=cid, number=1, content_hash=key, title=key, source_file=f"{key}.toml",
            loaded_at=created))
    inspections = []

    def inspection(lab, version, level, who, finished, round_id=None):
        inspections.append({"uuid": f"{len(inspections):036d}", "payload_hash": "h", "lab_id": lab,
                            "checklist_version_id": version, "level": level, "inspector_id": who,
                            "started_at": finished - timedelta(minutes=20), "finished_at": finished,
                            "received_at": finished, "note": "", "round_id": round_id})

    for d in range(DAYS):
        day = FIRST_DAY + timedelta(days=d)
        for lab in range(1, n_labs + 1):
            if rnd.random() < 0.9:
                inspection(lab, 1, "daily", admin, utc(day, rnd.randint(7, 21)))
    rounds, round_labs = [], []
    rid = 0
    for kind, n in N_ROUNDS.items():
        for i in range(n):
            rid += 1
            start = FIRST_DAY + timedelta(days=rnd.randint(0, DAYS - 30))
            end = start + timedelta(days=rnd.randint(7, 28))
            college = (i % n_colleges) + 1 if kind == "college_monthly" else None
            if kind == "school_wide":
                labs = list(range(1, n_labs + 1))
            elif kind == "college_monthly":
                labs = [lab for lab in range(1, n_labs + 1) if (lab - 1) % n_colleges + 1 == college]
            else:
                labs = sorted(rnd.sample(range(1, n_labs + 1), min(50, n_labs)))
            level, version = {"school_wide": ("school", 2), "college_monthly": ("college", 2),
                              "special": ("special", 3)}[kind]
            rounds.append({"id": rid, "title": f"检查{rid}", "kind": kind,
                           "topic": "fire" if kind == "special" else None,
                           "checklist_key": {2: "full", 3: "fire"}[version], "window_from": start, "window_to": end,
                           "starts_at": utc(start, 0), "ends_at": utc(end + timedelta(days=1), 0),
                           "owner_college_id": college, "department_id": None, "created_by_id": admin,
                           "created_at": created, "unannounced": kind == "special", "seed": None, "draw_n": None,
                           "population": None, "selection": {"mode": "all"}})
            for n_lab, lab in enumerate(labs):
                who = college_insp[college] if college else school[n_lab % len(school)]
                round_labs.append({"round_id": rid, "lab_id": lab, "inspector_id": who})
                if rnd.random() < 0.7:
                    finished = utc(start + timedelta(days=rnd.randint(0, (end - start).days)), 10)
                    inspection(lab, version, level, who, finished, rid if rnd.random() < 0.8 else None)
                    if rnd.random() < 0.1:
                        inspection(lab, version, level, who, finished + timedelta(hours=2), rid)
                if rnd.random() < 0.05:
                    inspection(lab, version, level, admin, utc(start, 11))  # not assigned: does not count
    bulk(InspectionRound, rounds)
    bulk(RoundLab, round_labs)
    bulk(Inspection, inspections)
    db.session.commit()
    return {"rounds": len(rounds), "round_labs": len(round_labs), "inspections": len(inspections),
            "inspector": school[0], "admin": admin}


def measure(uri: str, n_labs: int, is_pg: bool) -> dict:
    from app import create_app
    from app.auth.models import User
    from app.extensions import db
    from app.rounds import nightly, services

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, INSTANCE_PATH=tempfile.mkdtemp(prefix="labsafe-bench-"))
    with app.app_context():
        db.create_all()
        t0 = time.perf_counter()
        counts = seed(n_labs, random.Random(n_labs))
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        seeded = time.perf_counter() - t0
        statements = {"n": 0}

        def count(*_a):
            statements["n"] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        out = {"labs": n_labs, "seed_s": round(seeded, 1), **{k: v for k, v in counts.items()
                                                               if k not in ("inspector", "admin")}}
        admin, inspector = db.session.get(User, counts["admin"]), db.session.get(User, counts["inspector"])
        now = utc(FIRST_DAY + timedelta(days=40), 12)
        end = utc(FIRST_DAY + timedelta(days=DAYS + 1), 0)
        ids = list(range(1, counts["rounds"] + 1))
        for label, run in (
            ("counts_200_rounds", lambda: services.counts(ids)),
            ("list_rounds_admin", lambda: services.list_rounds(admin)),
            ("work_list_inspector", lambda: services.work_list(inspector, now)),
            ("nightly_flag_late", lambda: nightly.flag_late(FIRST_DAY + timedelta(days=DAYS), end, end, app.config)),
            ("figures_school_6_months", lambda: services.round_figures(date(2026, 7, 1), date(2026, 12, 1), None, end)),
            ("figures_college_6_months", lambda: services.round_figures(date(2026, 7, 1), date(2026, 12, 1), 1, end)),
        ):
            db.session.expire_all()
            statements["n"] = 0
            t = time.perf_counter()
            result = run()
            seconds = time.perf_counter() - t
            db.session.rollback()  # the nightly step measured, not kept
            detail = (sum(c["done"] for c in result.values()) if isinstance(result, dict) and label.startswith("counts")
                      else result if isinstance(result, dict)
                      else _figures(result) if isinstance(result, services.RoundFigures) else len(result))
            out[label] = {"seconds": round(seconds, 3), "statements": statements["n"], "result": detail}
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
        db.engine.dispose()
    return out


def _figures(f) -> dict:
    """Rounds, round labs planned / done / late and colleges of the dashboards' figures."""
    return {"rounds": len(f.rounds), "planned": sum(t.planned for t in f.total.values()),
            "done": sum(t.done for t in f.total.values()), "late": sum(t.late for t in f.total.values()),
            "colleges": len(f.colleges)}


def main(argv=None):
    main_by_lab_count(measure, "rounds", __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    main()

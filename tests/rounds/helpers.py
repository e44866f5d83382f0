"""A small world for rounds: a college with three labs, a school inspector, the admin, a checklist."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app

from app.auth.models import Role
from tests.factories import make_checklist_version, make_college, make_department, make_lab, make_user
from tests.factories.inspections import applicable_items, iso, new_uuid


def today() -> date:
    return datetime.now(ZoneInfo(current_app.config["SCHOOL_TIMEZONE"])).date()


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(current_app.config["SCHOOL_TIMEZONE"])).astimezone(UTC)


def world():
    w = SimpleNamespace()
    w.college = make_college()
    w.other_college = make_college()
    w.labs = [make_lab(w.college) for _ in range(3)]
    w.other_lab = make_lab(w.other_college)
    w.version = make_checklist_version("full")
    w.key = w.version.checklist.key
    w.admin = make_user(Role.school_admin)
    w.inspector = make_user(Role.inspector)
    w.inspector2 = make_user(Role.inspector)
    w.leader = make_user(Role.college_leader, college=w.college)
    w.other_leader = make_user(Role.college_leader, college=w.other_college)
    w.officer = make_user(Role.lab_officer, lab=w.labs[0])
    return w


def security_officer():
    """An officer of 保卫处 (security: fire and controlled chemicals, art. 9(2)), the lab management
    office beside it, and a special checklist: who plans which special rounds."""
    security = make_department("security")
    make_department("lab_management")
    return security, make_user(Role.dept_officer, department=security), make_checklist_version("special")


def round_body(w, *, start: date, end: date, inspectors=None, **kw) -> dict:
    return {
        "title": "2026春季校级检查", "kind": "school_wide", "checklist_key": w.key,
        "window_from": start.isoformat(), "window_to": end.isoformat(),
        "labs": {"mode": "list", "lab_ids": [lab.id for lab in w.labs]},
        "inspector_ids": [i.id for i in (inspectors or [w.inspector])], **kw,
    }


def submission(w, lab, *, finished: datetime, round_id=None, level="school") -> dict:
    body = {
        "uuid": new_uuid(), "lab_id": lab.id, "checklist_version_id": w.version.id, "level": level,
        "started_at": iso(finished - timedelta(minutes=20)), "finished_at": iso(finished), "note": "",
        "answers": [{"item_id": i.id, "result": "pass"} for i in applicable_items(w.version, lab)],
    }
    if round_id is not None:
        body["round_id"] = round_id
    return body


def rewind(kept: tuple, others: tuple = ()) -> None:
    """Empty these tables, past the ORM's art. 30 guard and the database's delete triggers (put back
    after): a test rewinds its world to replay the nights; the app never does."""
    from sqlalchemy import text

    from app.db.kept import trigger_sql
    from app.extensions import db

    db.session.commit()
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        for model in kept:
            name = model.__table__.name
            conn.execute(text(f"DROP TRIGGER {name}_no_delete" + (f" ON {name}" if dialect == "postgresql" else "")))
        for model in (*kept, *others):
            conn.execute(model.__table__.delete())
        for model in kept:
            conn.execute(text(trigger_sql(model.__table__.name, dialect)))

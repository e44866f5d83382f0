"""A small programme of rounds for the figures' tests (tests/rounds, tests/reports): school rounds over
two colleges' labs, a college round, inspections that count and some that do not."""
from __future__ import annotations

from datetime import date

from flask import current_app

from app.auth.models import Role
from app.extensions import db
from app.rounds import services
from app.rounds.schemas import RoundInSchema
from tests.factories import make_user
from tests.factories.reports import add_inspection, local
from tests.statements import count_statements  # noqa: F401  (the rounds' tests import it from here)

from .helpers import world

SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)


def plan(w, start: date, end: date, *, kind="school_wide", lab_ids=None, inspectors=None, **kw):
    body = {"title": f"{kind} {start}", "kind": kind, "checklist_key": w.key,
            "window_from": start.isoformat(), "window_to": end.isoformat(),
            "labs": {"mode": "list", "lab_ids": lab_ids or [lab.id for lab in w.labs + [w.other_lab]]},
            "inspector_ids": [i.id for i in (inspectors or [w.inspector])], **kw}
    data = RoundInSchema().load(body)
    return services.create_round(w.admin, data, services.plan_facts(data), current_app.config)


def inspect(w, lab, level, finished, *, who=None, received=None):
    insp = add_inspection(lab, level, finished, inspector=who or w.inspector, version=w.version)
    if received is not None:
        insp.received_at = received
    db.session.commit()


def scenario():
    """October's school round (window 25 Sep - 10 Oct) over college A's three labs and college B's one;
    September's college round of college A; a November school round still running on 1 November."""
    w = world()
    w.college_inspector = make_user(Role.inspector, college=w.college)
    a0, a1, a2 = w.labs
    w.october = plan(w, date(2026, 9, 25), date(2026, 10, 10))
    inspect(w, a0, "school", local(2026, 9, 26))
    inspect(w, a0, "school", local(2026, 10, 2))  # a second one: the lab is still done once
    # Finished on the window's last evening, synced ten days later: it counts.
    inspect(w, a1, "school", local(2026, 10, 10, 23, 0), received=local(2026, 10, 20))
    inspect(w, a2, "school", local(2026, 10, 11, 9, 0))  # the morning after the window: late
    inspect(w, w.other_lab, "school", local(2026, 10, 3), who=w.inspector2)  # not assigned: late
    w.september = plan(w, date(2026, 9, 1), date(2026, 9, 30), kind="college_monthly",
                        owner_college_id=w.college.id, lab_ids=[lab.id for lab in w.labs],
                        inspectors=[w.college_inspector])
    inspect(w, a0, "college", local(2026, 9, 10), who=w.college_inspector)
    w.november = plan(w, date(2026, 10, 25), date(2026, 11, 5))
    inspect(w, a0, "school", local(2026, 10, 28))
    return w

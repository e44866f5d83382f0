"""The nightly job's round flags: late labs flagged once, catching up, notices to the inspector before
and the owner after, a fixed number of statements (art. 26-28)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import event, func, select

from app.extensions import db
from app.jobs.services import run_nightly
from app.notifications.models import Notification
from app.rounds import services
from app.rounds.models import RoundLateFlag
from app.rounds.schemas import RoundInSchema
from tests.factories import make_lab

from .helpers import local_noon, rewind, round_body, today, world


def _plan(w, **kw):
    data = RoundInSchema().load(round_body(w, **kw))
    return services.create_round(w.admin, data, services.plan_facts(data), current_app.config)


def _flags():
    db.session.expire_all()
    return sorted((f.round_id, f.lab_id) for f in db.session.scalars(select(RoundLateFlag)))


def _notices(kind):
    return sorted((n.user_id, n.dedupe_key) for n in db.session.scalars(select(Notification).where(
        Notification.kind == kind)))


def _inspect(w, lab, r, day):
    from app.inspections.schemas import InspectionInSchema
    from app.inspections.services import submit_inspection

    from .helpers import submission

    data = InspectionInSchema().load(submission(w, lab, finished=local_noon(day), round_id=r.id))
    submit_inspection(w.inspector, data, current_app.config)


def test_late_flags_are_idempotent_and_catch_up(app):
    w = world()
    t = today()
    ended = _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=6))
    running = _plan(w, start=t - timedelta(days=9), end=t + timedelta(days=6))
    _inspect(w, w.labs[0], ended, t - timedelta(days=7))
    # A catch-up over the last eight nights: the ended round's two undone labs are flagged, once.
    run_nightly(t - timedelta(days=8), current_app.config, send_mail=False)
    assert _flags() == []  # its window had not ended that night
    summary = run_nightly(t - timedelta(days=1), current_app.config, send_mail=False)
    assert summary["round_late"] == 2
    assert _flags() == sorted((ended.id, lab.id) for lab in w.labs[1:])
    # Again (a new night with nothing new, and the same night re-run): nothing doubles.
    again = run_nightly(t - timedelta(days=1), current_app.config, send_mail=False)
    assert again["days"] == [] and _flags() == sorted((ended.id, lab.id) for lab in w.labs[1:])
    # The owner (the school: its admins) heard of each late lab once; the running round flagged nothing.
    assert _notices("round_late") == sorted((w.admin.id, f"round_late:{ended.id}:{lab.id}") for lab in w.labs[1:])
    assert all(r != running.id for r, _lab in _flags())


def test_catching_up_gives_what_one_run_a_night_gives(app):
    w = world()
    t = today()
    _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=6))
    _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=3))
    for n in range(8, 0, -1):
        run_nightly(t - timedelta(days=n), current_app.config, send_mail=False)
    nightly = (_flags(), _notices("round_late"), _notices("round_due"))
    # The same world, processed in one catch-up, gives the same flags and notices.
    from app.jobs.models import NightlyRun
    from app.notifications.models import OutboxEmail

    rewind((RoundLateFlag,), (OutboxEmail, Notification, NightlyRun))
    run_nightly(t - timedelta(days=8), current_app.config, send_mail=False)
    run_nightly(t - timedelta(days=1), current_app.config, send_mail=False)
    assert (_flags(), _notices("round_late"), _notices("round_due")) == nightly
    assert len(nightly[0]) == 6 and len(nightly[2]) == 6  # every lab of both rounds reminded before its end


def test_the_inspector_is_reminded_before_the_window_ends(app):
    w = world()
    t = today()
    r = _plan(w, start=t - timedelta(days=5), end=t + timedelta(days=1))
    _inspect(w, w.labs[0], r, t - timedelta(days=1))
    run_nightly(t - timedelta(days=2), current_app.config, send_mail=False)
    assert _notices("round_due") == []  # three days before the end: not yet
    run_nightly(t - timedelta(days=1), current_app.config, send_mail=False)
    assert _notices("round_due") == sorted((w.inspector.id, f"round_due:{r.id}:{lab.id}") for lab in w.labs[1:])
    assert _flags() == []


def _count(day):
    n = {"n": 0}

    def listener(*args):
        n["n"] += 1

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        run_nightly(day, current_app.config, send_mail=False)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return n["n"]


def test_the_round_step_costs_a_fixed_number_of_statements(app):
    w = world()
    t = today()
    _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=3))
    small = _count(t - timedelta(days=3))
    for _ in range(20):
        make_lab(w.college)
    for _ in range(5):
        _plan(w, start=t - timedelta(days=9), end=t - timedelta(days=2), labs={"mode": "college",
                                                                               "college_id": w.college.id})
    large = _count(t - timedelta(days=2))
    assert db.session.scalar(select(func.count()).select_from(RoundLateFlag)) == 3 + 5 * 23
    assert small == large

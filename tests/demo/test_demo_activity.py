"""`flask demo-activity`: two months of activity through the real services, idempotent."""
from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from app.auth.models import User
from app.demo.services import counted_rows
from app.extensions import db
from app.inspections.models import Inspection, InspectionLevel, MissedDailyCheck
from app.jobs.models import NightlyRun
from app.notifications.models import Notification
from app.photos.models import Photo
from app.photos.storage import storage_for
from app.tickets.models import RectificationTicket, TicketEvent, TicketSignature, TicketState
from app.timeutil import day_bounds_utc, school_today, utcnow
from tests.factories import load_shipped_checklists

ARGS = ["demo-activity", "--days", "42", "--colleges", "CHEM,LIFE"]


def _small_world(runner):
    load_shipped_checklists()
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output


def test_demo_activity_fills_every_level_and_a_second_run_adds_nothing(runner):
    _small_world(runner)
    before = utcnow().replace(second=0, microsecond=0)
    # Both runs simulate up to the same moment: today's activity is what was done by then, so a
    # second run later in the day would rightly add the checks done since.
    until = ["--until", before.replace(tzinfo=UTC).astimezone(
        ZoneInfo(current_app.config["SCHOOL_TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")]
    first = runner.invoke(args=ARGS + until)
    assert first.exit_code == 0, first.output
    assert "generated" in first.output
    db.session.expire_all()
    counts = counted_rows()
    tz = current_app.config["SCHOOL_TIMEZONE"]
    today = school_today(tz)
    window_start = day_bounds_utc(today - timedelta(days=42), tz)[0]

    # Inspections at each level, with device times in the past days of the window.
    levels = set(db.session.scalars(select(Inspection.level).distinct()))
    assert {InspectionLevel.daily, InspectionLevel.college, InspectionLevel.school} <= levels
    first_start, last_finish = db.session.execute(
        select(func.min(Inspection.started_at), func.max(Inspection.finished_at))).one()
    assert window_start <= first_start and last_finish <= before
    # Only the demo colleges' labs were simulated.
    from app.org.models import College, Lab
    codes = set(db.session.scalars(
        select(College.code).join(Lab, Lab.college_id == College.id).join(Inspection, Inspection.lab_id == Lab.id)))
    assert codes == {"CHEM", "LIFE"}

    # Tickets in several states, moved by the right people; history dated in the past.
    states = set(db.session.scalars(select(RectificationTicket.state).distinct()))
    assert TicketState.closed in states and len(states) >= 3, states
    kinds = set(db.session.scalars(select(TicketEvent.kind).distinct()))
    assert {"created", "start_fix", "submit_fix", "verify", "reject", "declare_cannot_fix", "escalate"} <= kinds
    assert db.session.scalar(select(func.max(TicketEvent.created_at))) <= before
    # The reply slip signed with each fix and its verification (issue 23), by the one who acted.
    signed = db.session.execute(select(TicketSignature.role, TicketSignature.name, User.name).join(
        TicketEvent, TicketEvent.id == TicketSignature.event_id).join(User, User.id == TicketEvent.actor_id)).all()
    assert {r.role.value for r in signed} == {"rectifier", "verifier"} and all(r[1] == r[2] for r in signed)
    assert db.session.scalar(select(func.min(RectificationTicket.created_at))) >= window_start
    rejected = db.session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "reject")).all()
    assert rejected and all(
        db.session.get(RectificationTicket, t).state == TicketState.closed for t in rejected)
    for ticket in db.session.scalars(
        select(RectificationTicket).where(RectificationTicket.state == TicketState.closed)
    ):
        assert ticket.closed_at is not None and ticket.fixed_by_id is not None
        verifier = db.session.scalar(select(TicketEvent.actor_id).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "verify"))
        assert verifier != ticket.fixed_by_id  # someone else verified (DOMAIN: rectification)
    assert db.session.scalar(select(func.count()).select_from(RectificationTicket).where(
        RectificationTicket.cannot_fix.is_(True))) >= 1

    # Real photos, stored through the pipeline (files exist), captured on the day they show.
    photos = db.session.scalars(select(Photo)).all()
    assert photos
    store = storage_for(current_app.config)
    assert all(store.exists(p.original_key) and store.exists(p.thumb_key) for p in photos)
    assert all(p.captured_at is not None and p.captured_at < before for p in photos)

    # The nightly job ran for every covered day: missed checks, escalations, notifications.
    assert db.session.scalar(select(func.count()).select_from(NightlyRun)) == 42
    assert db.session.scalar(select(func.count()).select_from(MissedDailyCheck)) > 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) > 0
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "missed_check")) > 0
    assert db.session.scalar(select(func.max(Notification.created_at))) <= before

    # A second run finds everything already there.
    second = runner.invoke(args=ARGS + until)
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output
    db.session.expire_all()
    assert counted_rows() == counts


def test_demo_activity_needs_the_demo_world(runner):
    load_shipped_checklists()
    result = runner.invoke(args=ARGS)
    assert result.exit_code == 1
    assert "demo-data" in result.output
    assert counted_rows()["inspections"] == 0

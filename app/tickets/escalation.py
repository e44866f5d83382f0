"""Levels and deadlines: lab -> college -> school (art. 29).

A ticket rises when its deadline passes (nightly job), at once when it is major (art. 29: a major
hazard is reported to the college at once, so a major ticket starts at college level, its creation
and that escalation both recorded), and when the lab declares it cannot fix it. Each level sets a
new deadline from TICKET_DEADLINE_DAYS; each rise notifies those concerned.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_

from app.checklists.models import Severity
from app.extensions import db
from app.notifications import services as notices
from app.org.models import Lab
from app.timeutil import utcnow

from .events import record_event
from .labels import value_of
from .models import RectificationTicket, TicketEvent, TicketLevel, TicketState

S = TicketState

NEXT_LEVEL = {TicketLevel.lab: TicketLevel.college, TicketLevel.college: TicketLevel.school}
LEVEL_RANK = {TicketLevel.lab: 0, TicketLevel.college: 1, TicketLevel.school: 2}
# States in which the lab still owes a fix: the deadline applies and the nightly job escalates.
# A submitted fix waits for the reviewers, not the lab, so it does not climb on its deadline.
ACTIVE_STATES = (S.open, S.fixing)


def deadline_for(severity, level, config: dict, start=None):
    days = config["TICKET_DEADLINE_DAYS"][(value_of(severity), value_of(level))]
    return (start or utcnow()) + timedelta(days=days)


def title_facts(ticket: RectificationTicket, lab: Lab | None = None) -> notices.TitleFacts:
    """What the ticket's notices are titled with (each reader gets the title in their language)."""
    lab = lab or db.session.get(Lab, ticket.lab_id)
    return notices.TitleFacts(lab=lab.name if lab else "", article=ticket.article, title=ticket.title,
                              title_en=ticket.title_en, lab_en=getattr(lab, "name_en", None))


def ticket_link(ticket) -> str:
    return link_for(ticket.id)


def link_for(ticket_id: int) -> str:
    return f"/tickets/{ticket_id}"


def raise_level(ticket: RectificationTicket, to_level: TicketLevel, config: dict, now: datetime, *,
                 actor_id: int | None, note: str = "", note_key: str | None = None,
                 kind: str = "escalate") -> TicketEvent:
    """Move the ticket up to ``to_level`` with a fresh deadline, record it, tell those concerned."""
    from_level, from_state = ticket.level, ticket.state
    ticket.level = to_level
    ticket.deadline = deadline_for(ticket.severity, to_level, config, now)
    ticket.escalated_at = now
    ticket.updated_at = now
    ev = record_event(ticket, kind, actor_id, from_state=from_state, from_level=from_level, note=note,
                 note_key=note_key, note_params={}, when=now)
    notify_level(ticket, config)
    return ev


def notify_level(ticket: RectificationTicket, config: dict, lab=None) -> None:
    if lab is None:
        lab = db.session.get(Lab, ticket.lab_id)
    common = dict(
        facts=title_facts(ticket, lab),
        link=ticket_link(ticket),
        ticket_id=ticket.id,
        lab_id=ticket.lab_id,
        config=config,
    )
    level = value_of(ticket.level)
    if level in ("college", "school"):
        notices.notify(notices.college_oversight(lab.college_id), kind=notices.ESCALATED,
                       dedupe_key=f"ticket:{ticket.id}:level:{level}", **common)
    if level == "school" or ticket.severity == Severity.major or ticket.cannot_fix:
        # Art. 29: major and cannot-fix hazards are reported to the functional department too.
        notices.notify(notices.department_officers(ticket.department_id), kind=notices.ROUTED,
                       dedupe_key=f"ticket:{ticket.id}:dept:{level}", **common)
    if level == "school":
        notices.notify(notices.school_admins(), kind=notices.ESCALATED,
                       dedupe_key=f"ticket:{ticket.id}:level:school", **common)


def overdue(state, deadline: datetime, now: datetime) -> bool:
    """Art. 29: a ticket not yet closed past its deadline (state as the enum or its stored value)."""
    return state != TicketState.closed and deadline < now


def is_overdue(ticket: RectificationTicket, now: datetime | None = None) -> bool:
    return overdue(ticket.state, ticket.deadline, now or utcnow())


def overdue_clause(as_of: datetime):
    return and_(RectificationTicket.state.in_(ACTIVE_STATES), RectificationTicket.deadline <= as_of)

"""Rectification ticket services (art. 29, 30). The lifecycle lands in issue 5."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.timeutil import utcnow

from .models import RectificationTicket, TicketEvent, TicketLevel, TicketState


def deadline_for(severity, level, config: dict, start=None):
    days = config["TICKET_DEADLINE_DAYS"][(getattr(severity, "value", severity), getattr(level, "value", level))]
    return (start or utcnow()) + timedelta(days=days)


def open_ticket_for_failed_answer(*, inspection, answer, item, actor_id: int | None, config: dict) -> RectificationTicket:
    """Every failed item becomes a ticket for the lab's safety officers (art. 29).

    Idempotent: one failed answer has exactly one ticket (unique answer_id). Does not commit:
    the caller commits the inspection and its tickets together.
    """
    existing = db.session.scalar(select(RectificationTicket).where(RectificationTicket.answer_id == answer.id))
    if existing is not None:
        return existing
    now = utcnow()
    ticket = RectificationTicket(
        lab_id=inspection.lab_id,
        inspection_id=inspection.id,
        answer_id=answer.id,
        item_id=item.id,
        article=item.article,
        title=item.text,
        description=answer.note or "",
        severity=item.severity,
        state=TicketState.open,
        level=TicketLevel.lab,
        deadline=deadline_for(item.severity, TicketLevel.lab, config, now),
        created_at=now,
        updated_at=now,
    )
    db.session.add(ticket)
    db.session.flush()
    db.session.add(
        TicketEvent(ticket_id=ticket.id, actor_id=actor_id, kind="created", to_state=TicketState.open.value,
                    to_level=TicketLevel.lab.value, note=answer.note or "", created_at=now)
    )
    return ticket


def open_tickets_for_lab(lab_id: int) -> list[RectificationTicket]:
    """Tickets of a lab not yet verified closed, most urgent deadline first."""
    return list(
        db.session.scalars(
            select(RectificationTicket)
            .where(RectificationTicket.lab_id == lab_id, RectificationTicket.state != TicketState.closed)
            .order_by(RectificationTicket.deadline)
        )
    )

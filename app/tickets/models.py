"""Rectification tickets (整改单): never deleted, every change an event (art. 29, 30)."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.checklists.models import Severity
from app.extensions import StrEnum, db
from app.photos.signatures import SignatureColumns
from app.timeutil import utcnow

# JSONB on PostgreSQL, like notifications.params (json has no equality operator).
JSON_FACTS = JSON().with_variant(JSONB(), "postgresql")


class TicketState(str, enum.Enum):
    open = "open"
    fixing = "fixing"
    fix_submitted = "fix_submitted"
    closed = "closed"  # verified by someone other than the fixer


class TicketLevel(str, enum.Enum):
    lab = "lab"
    college = "college"
    school = "school"


class RectificationTicket(db.Model):
    __tablename__ = "rectification_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    # One failed answer opens exactly one ticket, however often the inspection is re-sent.
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_answers.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_items.id"))
    article: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)  # the checklist item's text (Chinese), or as typed
    title_en: Mapped[str | None] = mapped_column(Text)  # the item's English text; shown to English readers
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[Severity] = mapped_column(StrEnum(Severity))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    state: Mapped[TicketState] = mapped_column(
        StrEnum(TicketState), default=TicketState.open, index=True
    )
    level: Mapped[TicketLevel] = mapped_column(
        StrEnum(TicketLevel), default=TicketLevel.lab
    )
    deadline: Mapped[datetime] = mapped_column(DateTime, index=True)
    cannot_fix: Mapped[bool] = mapped_column(Boolean, default=False)
    interim_measures: Mapped[str] = mapped_column(Text, default="")
    fixed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Optimistic lock: two people acting at once -> exactly one transition.
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id"
    )

    # The list's order, (closed last, deadline, id), read from indexes instead of sorting every ticket
    # in scope (listing._in_scope): the open part (any state but closed) walks a partial index by
    # (deadline, id); the closed part, and a list filtered to one state, walk (state, deadline, id).
    # listing._in_scope's open predicate is the partial index's WHERE verbatim, so both SQLite and
    # PostgreSQL can prove the index applies. Tickets are never deleted (art. 30): the open index
    # stays the size of the current work, the other grows with the history.
    __table_args__ = (
        Index("ix_rectification_tickets_open_deadline_id", "deadline", "id",
              sqlite_where=text("state != 'closed'"), postgresql_where=text("state != 'closed'")),
        Index("ix_rectification_tickets_state_deadline_id", "state", "deadline", "id"),
    )
    __mapper_args__ = {"version_id_col": version}


@dataclass(frozen=True)
class NewTicket:
    """Read model: a rectification_tickets row just inserted, as the values it was inserted with
    (what the creation notices read of it; tests/tickets/test_read_models.py holds its fields to
    RectificationTicket's columns).

    Not the ORM entity: a ticket is created with one Core INSERT ... RETURNING (no flush, no
    identity map, no refresh), so an inspection with many failed items stays a few statements;
    the entity would cost a flush and a SELECT per ticket.
    """

    id: int
    lab_id: int
    article: str
    title: str
    title_en: str | None
    description: str
    severity: Severity
    level: TicketLevel
    department_id: int | None
    cannot_fix: bool = False


class TicketEvent(db.Model):
    """Append-only history: who, when, from, to, note (art. 30)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("rectification_tickets.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None = nightly job
    kind: Mapped[str] = mapped_column(String(32))  # created, start_fix, submit_fix, verify, ...
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    from_level: Mapped[str | None] = mapped_column(String(10))
    to_level: Mapped[str | None] = mapped_column(String(10))
    # The ticket's deadline after the event, so its state at any past moment can be read back from
    # its history (the monthly summary judges a month's end by the deadline then in force). None on
    # events written before it was recorded (migration 0006 fills what it can).
    to_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")  # what the actor wrote
    # What the system adds, as a message key and its facts (labels.EVENT_NOTES), rendered in the
    # reader's language; None on rows written before, whose note says it all.
    note_key: Mapped[str | None] = mapped_column(String(40))
    note_params: Mapped[dict | None] = mapped_column(JSON_FACTS)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The UUID the phone made once for this action (its outbox item's id): a replay of the same action
    # finds it and changes nothing (lifecycle.perform_action). None on events not sent with one.
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)

    ticket: Mapped[RectificationTicket] = relationship(back_populates="events")
    photos: Mapped[list[TicketEventPhoto]] = relationship(order_by="TicketEventPhoto.position")


class TicketEventPhoto(db.Model):
    """After-photos proving a fix (and any photo attached to an event), by UUID: the event may be
    recorded before its photos arrive (report first, evidence after); a photo arriving later under
    the UUID is simply found by it (as inspections' AnswerPhoto)."""

    __tablename__ = "ticket_event_photos"
    __table_args__ = (UniqueConstraint("event_id", "photo_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), index=True)
    photo_uuid: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TicketSignatureRole(str, enum.Enum):
    """Who signs the notice's reply slip (整改回执, art. 28): the lab's safety officer submitting the fix,
    and whoever verifies it (the college's leader, or the department at school level)."""

    rectifier = "rectifier"  # submit_fix
    verifier = "verifier"  # verify


# The action each role signs with (lifecycle.perform_action takes a signature only with these).
SIGNING_ACTIONS = {"submit_fix": TicketSignatureRole.rectifier, "verify": TicketSignatureRole.verifier}


class TicketSignature(SignatureColumns, db.Model):
    """A signature drawn on a canvas when the fix is submitted or verified, or a refusal to sign with its
    reason (as the paper reply slip allows); tied to the event it signs. Part of the record kept on file
    (art. 28): never changed or deleted (art. 30, guards.py)."""

    __tablename__ = "ticket_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("rectification_tickets.id"), index=True)
    role: Mapped[TicketSignatureRole] = mapped_column(StrEnum(TicketSignatureRole))

    event: Mapped[TicketEvent] = relationship()

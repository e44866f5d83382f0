"""A lab's access roster (准入名单, art. 12-13): who may work in a lab, and why.

Art. 13(1): the school's safety exam gives access (准入资格); art. 13(2): a lab may require its own
training on top; art. 13(3): nobody who has not passed may experiment there. Each row is one person's
access to one lab: the exam's date, score and result, the lab's training (when the lab requires it,
``RosterLabSetting.training_required``) and the expiry the school sets (ACCESS_VALID_MONTHS by
default, or per row). Rows are never deleted: a person's access is revoked (``revoked_at``), and
every change is a RosterEvent (who, when, what changed; art. 30: nothing silently lost). A finding
on the spot (art. 13(3): someone working without valid access) is a RosterFinding naming the
rectification ticket it opened, once per client UUID.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.kept import keep
from app.extensions import db
from app.timeutil import utcnow


class RosterEntry(db.Model):
    """One person's access to one lab (art. 13)."""

    __tablename__ = "roster_entries"
    __table_args__ = (
        Index("ix_roster_entries_lab_id_staff_no", "lab_id", "staff_no"),
        Index("ix_roster_entries_valid_until", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    staff_no: Mapped[str] = mapped_column(String(32))  # 工号 / 学号
    email: Mapped[str] = mapped_column(String(200), default="")  # optional: matches a user for reminders
    exam_date: Mapped[date | None] = mapped_column(Date)  # the school's safety exam (art. 13(1))
    exam_score: Mapped[int | None] = mapped_column(Integer)
    exam_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    training_date: Mapped[date | None] = mapped_column(Date)  # the lab's own training (art. 12, 13(2))
    valid_until: Mapped[date] = mapped_column(Date)  # school-local, inclusive
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class RosterLabSetting(db.Model):
    """Whether a lab requires its own training before access (art. 13(2)); no row: it does not."""

    __tablename__ = "roster_lab_settings"

    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), primary_key=True)
    training_required: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RosterEvent(db.Model):
    """A change to a lab's roster (art. 30): added, changed (the fields before and after), revoked,
    imported, the training requirement set. Never changed or deleted."""

    __tablename__ = "roster_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("roster_entries.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # added, changed, revoked, imported, setting
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {field: [before, after]}
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RosterFinding(db.Model):
    """An inspector found someone working without valid access (art. 13(3)): the ticket it opened.
    One per client UUID: the phone's outbox may send it twice."""

    __tablename__ = "roster_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("roster_entries.id"))
    person_name: Mapped[str] = mapped_column(String(100))
    staff_no: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(String(16))  # not_listed, expired, revoked, no_exam, no_training
    note: Mapped[str] = mapped_column(String(500), default="")
    ticket_id: Mapped[int] = mapped_column(ForeignKey("rectification_tickets.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RosterRecordRefused(RuntimeError):
    """A roster's history or findings may not be changed or deleted, nor its rows deleted (art. 30)."""


keep((RosterEntry, RosterEvent, RosterFinding), unchanged=(RosterEvent, RosterFinding),
     refused=RosterRecordRefused)

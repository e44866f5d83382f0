"""Hazard reports (隐患报告) from a lab's door QR (issue 24; art. 30: no department or person may hide
or delay reporting a hazard).

Anyone signed in (and, where the school allows it, anyone at the door without an account) reports a
hazard with text and photos. The lab's officers and the college either open a rectification ticket
from it (the report keeps the ticket's id; the ticket's description names the report) or close it
with a reason. A report is never deleted and every change is a HazardReportEvent row (art. 30).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.kept import keep
from app.extensions import StrEnum, db
from app.timeutil import utcnow


class ReportState(str, enum.Enum):
    open = "open"  # waits for the lab's officers or the college
    ticketed = "ticketed"  # a rectification ticket was opened from it
    closed = "closed"  # closed with a reason (not a hazard, a duplicate, fixed on the spot...)


class HazardReport(db.Model):
    __tablename__ = "hazard_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    # None: reported without an account (HAZARD_ANONYMOUS_REPORTS); such a reporter follows the
    # outcome through a receipt token, stored here only as its SHA-256.
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    receipt_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The phone's UUID for this report (its outbox item): a replay finds it and records nothing new.
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[ReportState] = mapped_column(StrEnum(ReportState), default=ReportState.open, index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_tickets.id"), unique=True)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)

    photos: Mapped[list[HazardReportPhoto]] = relationship(order_by="HazardReportPhoto.position")
    events: Mapped[list[HazardReportEvent]] = relationship(order_by="HazardReportEvent.id")


class HazardReportPhoto(db.Model):
    """A report's photos by UUID: the report may arrive before them (report first, evidence after)."""

    __tablename__ = "hazard_report_photos"
    __table_args__ = (UniqueConstraint("report_id", "photo_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hazard_reports.id"), index=True)
    photo_uuid: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class HazardReportEvent(db.Model):
    """What happened to a report, by whom and when: reported, ticket_opened, closed (art. 30)."""

    __tablename__ = "hazard_report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hazard_reports.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: a reporter without an account
    what: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class HazardReportDeletionRefused(RuntimeError):
    """Raised when anything tries to delete a hazard report or rewrite its history (art. 30)."""


# ORM guards and database triggers (app.db.kept; migration 0019 installs the same triggers).
keep((HazardReport, HazardReportPhoto, HazardReportEvent), unchanged=(HazardReportPhoto, HazardReportEvent),
     refused=HazardReportDeletionRefused)

"""What the nightly job records (art. 29)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class MissedDailyCheck(db.Model):
    """A school-local day on which an active, open lab recorded no daily check.

    A daily check of that day synced late (within LATE_SYNC_DAYS) clears the flag: the row stays,
    with when and by which inspection it was cleared (art. 30: records are not deleted).
    """

    __tablename__ = "missed_daily_checks"
    __table_args__ = (UniqueConstraint("lab_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    flagged_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: the miss stands
    cleared_by_inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))


class NightlyRun(db.Model):
    """One row per processed day: the job catches up from the last one and never redoes a day."""

    __tablename__ = "nightly_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

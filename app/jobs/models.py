"""What the nightly job records (art. 29): the days it processed. The missed daily checks it flags
are the inspections domain's (inspections.models.MissedDailyCheck)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class NightlyRun(db.Model):
    """One row per processed day: the job catches up from the last one and never redoes a day."""

    __tablename__ = "nightly_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

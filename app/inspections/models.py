"""Inspections and their answers (art. 27-29 set the levels)."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.kept import keep
from app.extensions import StrEnum, db
from app.photos.signatures import SignatureColumns
from app.timeutil import utcnow


class InspectionLevel(str, enum.Enum):
    daily = "daily"  # lab, art. 29
    college = "college"  # monthly, art. 28
    school = "school"  # 1-2 per semester, art. 27
    special = "special"  # 专项检查, art. 27


class AnswerResult(str, enum.Enum):
    passed = "pass"
    failed = "fail"
    not_applicable = "na"


class Inspection(db.Model):
    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # named by the client
    payload_hash: Mapped[str] = mapped_column(String(64))  # same UUID + other content -> 409
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    level: Mapped[InspectionLevel] = mapped_column(StrEnum(InspectionLevel))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)  # on the device
    finished_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # on the device
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # by the server
    note: Mapped[str] = mapped_column(Text, default="")
    # Scored at submit by app/inspections/scoring.py with the version above (its items' weights and
    # red lines): 0-100, None when no item was answered pass or fail; grade A-D (None with no score).
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(1))
    # The round (app.rounds) the submit said it was done for: a plain id, no foreign key, so this
    # domain knows nothing of rounds; rounds count their inspections by querying this column.
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)

    answers: Mapped[list[InspectionAnswer]] = relationship(
        back_populates="inspection", order_by="InspectionAnswer.position"
    )


class InspectionAnswer(db.Model):
    __tablename__ = "inspection_answers"
    __table_args__ = (UniqueConstraint("inspection_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[AnswerResult] = mapped_column(StrEnum(AnswerResult))
    note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[Inspection] = relationship(back_populates="answers")
    photo_refs: Mapped[list[AnswerPhoto]] = relationship(order_by="AnswerPhoto.position")


# Read models: the rows the inspection submit has just inserted with Core INSERTs, as plain frozen
# data, handed to the ticket service for each failed item. Building the ORM entities instead would
# add them to the session and its flush for nothing (the rows are written already). Each field is a
# column of the model by the same name and type (tests/inspections/test_read_models.py).


@dataclass(frozen=True)
class InspectionRow:
    """An inspection row just inserted; reads like ``Inspection`` for its columns (no relationships)."""

    id: int
    uuid: str
    payload_hash: str
    lab_id: int
    checklist_version_id: int
    level: InspectionLevel
    inspector_id: int
    started_at: datetime
    finished_at: datetime
    received_at: datetime
    note: str
    score: float | None
    grade: str | None
    round_id: int | None = None


@dataclass(frozen=True)
class AnswerRow:
    """An answer row just inserted; reads like ``InspectionAnswer`` for its columns (no relationships)."""

    id: int
    inspection_id: int
    item_id: int
    position: int
    result: AnswerResult
    note: str


class AnswerPhoto(db.Model):
    """A photo an answer refers to by UUID; the photo itself may arrive before or after."""

    __tablename__ = "answer_photos"
    __table_args__ = (UniqueConstraint("answer_id", "photo_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("inspection_answers.id"), index=True)
    photo_uuid: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SignatureRole(str, enum.Enum):
    inspector = "inspector"
    lab_representative = "lab_representative"


class InspectionSignature(SignatureColumns, db.Model):
    """A signature drawn on the phone at the end of an inspection, or a refusal to sign with its reason
    (as the paper record allows): part of the record kept on file (art. 28). Sent with the inspection
    itself; never changed or deleted (art. 30)."""

    __tablename__ = "inspection_signatures"
    __table_args__ = (UniqueConstraint("inspection_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    role: Mapped[SignatureRole] = mapped_column(StrEnum(SignatureRole))


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


# ---- never deleted (art. 30: inspection records kept on file, art. 28) ------------------------

class InspectionDeletionRefused(RuntimeError):
    """Raised when anything tries to delete an inspection, its answers or its missed-check flags."""


# Answers and their photos are what the inspector found: never changed either. The inspection row
# itself is re-scored in place (scoring.rescore) and a missed-check flag records when it was cleared.
keep((Inspection, InspectionAnswer, AnswerPhoto, MissedDailyCheck), unchanged=(InspectionAnswer, AnswerPhoto),
     refused=InspectionDeletionRefused)
# A signature is what was signed: never changed either, in the ORM and the database (migration 0017).
keep((InspectionSignature,), refused=InspectionDeletionRefused, frozen=True)

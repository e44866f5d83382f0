"""The organisation: school -> colleges (and units of the same rank) -> labs (art. 2, 6)."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    select,
)
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, relationship

from app.db.kept import keep
from app.extensions import StrEnum, db
from app.timeutil import utcnow


class CollegeKind(str, enum.Enum):
    # Art. 2, 6: key labs and teaching centres rank with colleges.
    college = "college"
    key_lab = "key_lab"
    teaching_centre = "teaching_centre"


class LabCategory(str, enum.Enum):
    # Art. 22: what a lab must have depends on its category and hazards.
    chemistry = "chemistry"
    biology = "biology"
    physics = "physics"  # physics / electrical
    mechanical = "mechanical"  # mechanical / special equipment
    general = "general"  # computer / teaching


class RiskLevel(str, enum.Enum):
    """A lab's risk grade (MOE 2024 measures, 教科信〔2024〕4号; rules in app/org/risk.py): I red (major
    risk), II orange (high), III yellow (medium), IV blue (low)."""

    I = "I"  # noqa: E741  (the measures' own name)
    II = "II"
    III = "III"
    IV = "IV"

    @property
    def rank(self) -> int:
        """4 for I (the gravest) down to 1 for IV: the higher rank wins."""
        return 4 - list(RiskLevel).index(self)


HAZARD_TAGS = (
    "hazardous_chemicals",  # 危化品
    "highly_toxic",  # 剧毒
    "precursor",  # 易制毒
    "explosive_precursor",  # 易制爆
    "pathogens",  # 病原微生物
    "lab_animals",
    "special_equipment",  # 特种设备 incl. pressure vessels
    "high_voltage",
    "lasers",
    "radiation",
    "gas_cylinders",
)


class College(db.Model):
    __tablename__ = "colleges"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[CollegeKind] = mapped_column(
        StrEnum(CollegeKind), default=CollegeKind.college
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    labs: Mapped[list[Lab]] = relationship(back_populates="college", order_by="Lab.code")


class Department(db.Model):
    """Functional departments (职能部门, art. 9) and the remit that routes tickets to them."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # lab_management (实验室建设与管理处), security (保卫处), assets (资产与后勤管理处)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    remit: Mapped[str | None] = mapped_column(Text)


def new_qr_token() -> str:
    # 32 bytes = 256 bits, URL-safe; never derived from the room number.
    return secrets.token_urlsafe(32)


class Lab(db.Model):
    __tablename__ = "labs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str] = mapped_column(String(100), default="")
    floor: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(40), default="")
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), index=True)
    category: Mapped[LabCategory] = mapped_column(StrEnum(LabCategory))
    hazard_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str] = mapped_column(String(40), default="")  # art. 24(1): a working phone number
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    qr_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_qr_token)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Risk grade I-IV (MOE 2024 measures; app/org/risk.py): None until first assessed. The latest
    # assessment's answers; every assessment is kept in lab_risk_assessments (art. 30).
    risk_level: Mapped[RiskLevel | None] = mapped_column(StrEnum(RiskLevel), index=True)
    risk_assessed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A copy of the latest assessment's assessor (a user id; the history row holds the foreign key).
    risk_assessed_by_id: Mapped[int | None] = mapped_column()
    risk_answers: Mapped[dict | None] = mapped_column(JSON)
    # Set when the category or hazard tags change after the assessment: the measures ask for re-grading.
    risk_reassess: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    college: Mapped[College] = relationship(back_populates="labs")
    closures: Mapped[list[LabClosure]] = relationship(
        back_populates="lab", order_by="LabClosure.start_date", cascade="all, delete-orphan"
    )
    active_periods: Mapped[list[LabActivePeriod]] = relationship(
        back_populates="lab", order_by="LabActivePeriod.id", cascade="all"
    )

    @property
    def location(self) -> str:
        return " ".join(p for p in (self.building, self.room) if p)


# Read models: a few of a Lab's columns as a plain tuple, for hot paths that read a lab in one Core
# SELECT instead of loading the entity (an identity-map entry, its relationships: ~0.15 ms a lab).
# They change nothing. Each field is a column of Lab by the same name and type
# (tests/org/test_read_models.py holds them to it).


class LabRef(NamedTuple):
    """A lab as hot read paths need it, read without the ORM entity: whose it is (the policy reads
    ``id`` and ``college_id``) and what applies to it (art. 22: ``category``, ``hazard_tags``)."""

    id: int
    college_id: int
    category: LabCategory
    hazard_tags: list[str]


class NamedLab(NamedTuple):
    """A lab as the inspection submit reads it for the tickets its failed items open: whose it is and
    the name that titles a ticket, so the ticket service reads the lab no second time."""

    id: int
    college_id: int
    name: str
    name_en: str | None


class LabRiskAssessment(db.Model):
    """One risk assessment of a lab, as it was: never changed or deleted (art. 30), so an auditor sees
    every grade a lab had, who gave it, on which answers, hazards and rules."""

    __tablename__ = "lab_risk_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    risk_level: Mapped[RiskLevel] = mapped_column(StrEnum(RiskLevel))
    rule_id: Mapped[str | None] = mapped_column(String(64))  # the deciding rule; None: no rule matched (IV)
    reason: Mapped[str] = mapped_column(Text, default="")  # the rule's reason (Chinese) as then
    reason_en: Mapped[str | None] = mapped_column(Text)
    matched: Mapped[list[str]] = mapped_column(JSON, default=list)  # every matching rule's id
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    category: Mapped[LabCategory] = mapped_column(StrEnum(LabCategory))  # the lab's, when assessed
    hazard_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules_hash: Mapped[str] = mapped_column(String(64))  # which version of the rules file graded it
    assessed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The UUID the form or client made once for this assessment: sent again (a double submit, a retry
    # whose answer was lost), it answers the recorded assessment instead of recording a second one.
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)


class RiskHistoryRefused(RuntimeError):
    """Raised when anything tries to change or delete a recorded risk assessment (art. 30)."""


# Never deleted nor changed, by the ORM and by the database (migration 0011 installs the same triggers).
keep((LabRiskAssessment,), unchanged=(LabRiskAssessment,), refused=RiskHistoryRefused)


class RetiredQrToken(db.Model):
    """A token that was re-issued: it answers "this code has been replaced", never another lab."""

    __tablename__ = "retired_qr_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    retired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class LabClosure(db.Model):
    """A period the lab is closed (holidays, renovation): those days are not missed checks."""

    __tablename__ = "lab_closures"
    __table_args__ = (UniqueConstraint("lab_id", "start_date", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # inclusive
    reason: Mapped[str] = mapped_column(String(200), default="")
    # Who closed it, when, and in which bulk closure (closures.py); never deleted (art. 30): reopening
    # early moves end_date to the day before and keeps the end first planned and who reopened it.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("lab_closure_batches.id"), index=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    planned_end_date: Mapped[date | None] = mapped_column(Date)  # set when reopened early
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    lab: Mapped[Lab] = relationship(back_populates="closures")


class LabClosureBatch(db.Model):
    """Many labs closed at once (寒暑假): the scope asked for, the dates, the reason, who and when.
    Its labs' LabClosure rows carry batch_id; reopening the batch early reopens those still closed."""

    __tablename__ = "lab_closure_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))  # college, building, category, labs, all
    scope_value: Mapped[str] = mapped_column(String(200), default="")
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"), index=True)  # a leader's college
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # inclusive, as first planned
    reason: Mapped[str] = mapped_column(String(200), default="")
    lab_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_on: Mapped[date | None] = mapped_column(Date)  # the first day open again
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DailyCheckDesignee(db.Model):
    """Someone a lab's officer names to do the lab's daily check (art. 29), optionally for a date range
    (inclusive school days; None: open). Revoked, never deleted (art. 30)."""

    __tablename__ = "daily_check_designees"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    named_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    named_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class LabActivePeriod(db.Model):
    """When a lab was active: [start_at, end_at), naive UTC; end_at None while it still is.

    ``Lab.active`` says whether it is active now; these rows say when it was, so a month's figures
    (reports) and the nightly job judge each day by the labs active on it, and deactivating a lab
    does not rewrite the months before. ``start_at`` None: since the lab was created (its first
    period), which follows ``Lab.created_at`` wherever that is set. Kept by ``_keep_active_periods``
    below, whichever path changes ``Lab.active`` (admin pages, CSV import, seeding).
    """

    __tablename__ = "lab_active_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    start_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_at: Mapped[datetime | None] = mapped_column(DateTime)

    lab: Mapped[Lab] = relationship(back_populates="active_periods")


@event.listens_for(Session, "before_flush")
def _keep_active_periods(session, flush_context, instances):
    """A new active lab opens its first period; deactivating ends the open one, reactivating opens
    another (now). One place, so no path that flips ``Lab.active`` can leave the history behind."""
    now = None
    for obj in list(session.new):
        if isinstance(obj, Lab) and obj.active is not False:
            obj.active_periods.append(LabActivePeriod(start_at=None, end_at=None))
    for obj in list(session.dirty):
        if not isinstance(obj, Lab) or obj in session.new:
            continue
        history = attributes.get_history(obj, "active")
        if not history.has_changes() or bool(history.deleted and history.deleted[0]) == bool(obj.active):
            continue
        now = now or utcnow()
        with session.no_autoflush:
            open_periods = session.scalars(
                select(LabActivePeriod).where(LabActivePeriod.lab_id == obj.id, LabActivePeriod.end_at.is_(None))
            ).all()
        if obj.active:
            if not open_periods:
                session.add(LabActivePeriod(lab_id=obj.id, start_at=now, end_at=None))
        else:
            for period in open_periods:
                period.end_at = now

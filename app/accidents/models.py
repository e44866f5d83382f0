"""Lab accidents (实验室事故, art. 31-34, and the one-vote veto of art. 5).

An accident is reported at once from the phone or the web (art. 31: the unit and the school hear of it
immediately); the unit then files its written accident report (事故报告, art. 31) by a deadline; a grade
I-III accident is investigated by a school team whose report settles nature and responsibility (art. 32);
then the school closes it. Art. 33 grades it I-IV: ``grading.propose`` proposes a grade from the facts,
the school office confirms it or changes it with a reason.

Accidents are never deleted and every change is an AccidentEvent (art. 30, app.db.kept); a filed report
(AccidentReport) is never changed either: a correction would be a new accident event, not an edit.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.kept import keep
from app.extensions import StrEnum, db
from app.timeutil import utcnow


class AccidentGrade(str, enum.Enum):
    """Art. 33: I 特别重大, II 重大, III 较大, IV 一般."""

    I = "I"  # noqa: E741
    II = "II"
    III = "III"
    IV = "IV"


# Grades a school team investigates (art. 32: "较严重的事故"; this app reads it as I-III).
INVESTIGATED_GRADES = frozenset({AccidentGrade.I, AccidentGrade.II, AccidentGrade.III})


class EnvironmentDamage(str, enum.Enum):
    """The environmental damage, in art. 33's words for each grade."""

    none = "none"
    local_repairable = "local_repairable"  # IV 3: 校园生态环境局部受到影响，但可修复
    partly_repairable = "partly_repairable"  # III 3: 生态环境遭到一定破坏，但部分可修复
    severe = "severe"  # II 3: 严重、难以修复的生态环境破坏


class StabilityHarm(str, enum.Enum):
    """Harm or threat to the school's safety and stability (art. 33, criterion 4 of each grade)."""

    none = "none"
    some = "some"  # IV 4: 危害或威胁
    larger = "larger"  # III 4: 较大危害或威胁
    serious = "serious"  # II 4: 较为严重危害或威胁
    grave = "grave"  # I 4: 严重危害或威胁


class AccidentState(str, enum.Enum):
    reported = "reported"  # art. 31: reported at once, the unit's written report due
    unit_reported = "unit_reported"  # the unit's written report filed (art. 31)
    investigated = "investigated"  # the school team's report filed (art. 32; grades I-III)
    closed = "closed"


class ReportKind(str, enum.Enum):
    unit = "unit"  # 事故报告 by the unit (art. 31)
    investigation = "investigation"  # 事故调查报告 by the school's team (art. 32)


class Accident(db.Model):
    __tablename__ = "accidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Named by the phone (the outbox replays it): the same UUID twice is the same accident.
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    # The lab's college when reported: the unit answering for it (art. 5, 31), read by scope and veto.
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC
    place: Mapped[str] = mapped_column(String(200), default="")  # where in or near the lab
    description: Mapped[str] = mapped_column(Text)  # what happened
    deaths: Mapped[int] = mapped_column(Integer, default=0)
    serious_injuries: Mapped[int] = mapped_column(Integer, default=0)  # incl. poisoning, organ damage
    light_injuries: Mapped[int] = mapped_column(Integer, default=0)
    property_loss_yuan: Mapped[int] = mapped_column(Integer, default=0)
    environment: Mapped[EnvironmentDamage] = mapped_column(StrEnum(EnvironmentDamage), default=EnvironmentDamage.none)
    environment_note: Mapped[str] = mapped_column(Text, default="")
    stability: Mapped[StabilityHarm] = mapped_column(StrEnum(StabilityHarm), default=StabilityHarm.none)
    stability_note: Mapped[str] = mapped_column(Text, default="")
    first_measures: Mapped[str] = mapped_column(Text, default="")  # art. 31: the emergency response
    proposed_grade: Mapped[AccidentGrade] = mapped_column(StrEnum(AccidentGrade))
    grade: Mapped[AccidentGrade | None] = mapped_column(StrEnum(AccidentGrade))  # confirmed by the school
    state: Mapped[AccidentState] = mapped_column(StrEnum(AccidentState), default=AccidentState.reported)
    unit_report_due_at: Mapped[datetime] = mapped_column(DateTime)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def effective_grade(self) -> AccidentGrade:
        """The confirmed grade, else the proposed one (counted until the school confirms)."""
        return self.grade or self.proposed_grade


class AccidentPhoto(db.Model):
    """Photos of the scene by UUID: the report may arrive before them (report first, evidence after)."""

    __tablename__ = "accident_photos"
    __table_args__ = (UniqueConstraint("accident_id", "photo_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accident_id: Mapped[int] = mapped_column(ForeignKey("accidents.id"), index=True)
    photo_uuid: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class AccidentEvent(db.Model):
    """What was done to an accident, by whom, when (art. 30): reported, grade confirmed or changed (with
    the reason), reports filed, closed. Never changed or deleted."""

    __tablename__ = "accident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    accident_id: Mapped[int] = mapped_column(ForeignKey("accidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class AccidentReport(db.Model):
    """A written report as filed: the unit's (art. 31) or the investigation team's (art. 32). Frozen;
    its PDF is issued once by app.documents from these fields."""

    __tablename__ = "accident_reports"
    __table_args__ = (UniqueConstraint("accident_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accident_id: Mapped[int] = mapped_column(ForeignKey("accidents.id"), index=True)
    kind: Mapped[ReportKind] = mapped_column(StrEnum(ReportKind))
    summary: Mapped[str] = mapped_column(Text)  # the course of events (经过) / of the investigation
    causes: Mapped[str] = mapped_column(Text, default="")
    nature: Mapped[str] = mapped_column(Text, default="")  # investigation: the accident's nature (性质)
    responsibility: Mapped[str] = mapped_column(Text, default="")  # investigation: who answers (责任)
    measures: Mapped[str] = mapped_column(Text, default="")  # rectification and prevention (整改、防范措施)
    proposals: Mapped[str] = mapped_column(Text, default="")  # investigation: 处理建议
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AccidentRecordRefused(RuntimeError):
    """Raised when anything tries to delete an accident's records or rewrite its history (art. 30)."""


# ORM guards and database triggers (app.db.kept; migration 0023 installs the same triggers).
keep((Accident, AccidentPhoto, AccidentEvent), unchanged=(AccidentPhoto, AccidentEvent), refused=AccidentRecordRefused)
keep((AccidentReport,), refused=AccidentRecordRefused, frozen=True)

"""Inspection rounds (巡查计划, art. 26-28): what the school or a college plans to check, when, by whom.

A round has a kind (art. 27 school-wide and special checks, art. 28 college monthly checks and
unannounced spot checks), the checklist it uses, a window of school-local dates, its labs and the
inspector each lab is assigned to. A round's lab is done by the first qualifying inspection
(``services.first_qualifying``, ``services.is_done``): computed from the inspections, never stored,
so a late sync changes the figure without anyone rewriting a row. Rounds are never deleted; every
change is a RoundChange row (art. 30).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.kept import keep
from app.extensions import StrEnum, db
from app.timeutil import utcnow


class RoundKind(str, enum.Enum):
    school_wide = "school_wide"  # art. 27: once or twice a semester
    college_monthly = "college_monthly"  # art. 28
    special = "special"  # art. 27 专项检查, with a topic


# Special checks' topics (art. 27 专项检查) and the department whose remit each is by art. 9: its
# officers may plan them (art. 9(2), 27: the committee tasks "the working groups or departments").
SPECIAL_TOPICS = {
    "hazchem": "lab_management",  # art. 9(1): hazardous chemicals' storage and use, chemical safety
    "biosafety": "lab_management",  # art. 9(1)
    "equipment": "lab_management",  # art. 9(1): instruments and equipment
    "waste": "lab_management",  # art. 9(1): lab waste
    "radiation": "lab_management",  # not named by art. 9; the office that drafts the rules (9(1))
    "controlled_chemicals": "security",  # art. 9(2): highly toxic, explosive and drug precursors
    "fire": "security",  # art. 9(2): fire equipment and its checks
    "utilities": "assets",  # art. 9(3): water and electricity
    "premises": "assets",  # art. 9(3): lab environment and alterations
}

# The inspection level a round's kind records (inspections.models.InspectionLevel values).
LEVEL_OF_KIND = {RoundKind.school_wide: "school", RoundKind.college_monthly: "college", RoundKind.special: "special"}


class InspectionRound(db.Model):
    __tablename__ = "inspection_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[RoundKind] = mapped_column(StrEnum(RoundKind))
    topic: Mapped[str | None] = mapped_column(String(32))  # special rounds: a SPECIAL_TOPICS key
    checklist_key: Mapped[str] = mapped_column(String(64))
    window_from: Mapped[date] = mapped_column(Date)  # school-local, inclusive
    window_to: Mapped[date] = mapped_column(Date)  # school-local, inclusive
    # The window as naive UTC [starts_at, ends_at), from SCHOOL_TIMEZONE when planned: set-based queries.
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    owner_college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"), index=True)  # None: the school
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # a special round's department
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    unannounced: Mapped[bool] = mapped_column(Boolean, default=False)
    # Spot checks (抽查, art. 28): random.Random(seed).sample(population, draw_n) drew the labs.
    seed: Mapped[int | None] = mapped_column(Integer)
    draw_n: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[list[int] | None] = mapped_column(JSON)  # the scope's lab ids, in id order
    selection: Mapped[dict] = mapped_column(JSON, default=dict)  # how the labs were chosen, as asked
    # A round a recurring rule generated (rules.py): the rule, its period's first day and the part of
    # the rule it plans ("<cadence>:<checklist>": a rule by risk grade plans one round per cadence
    # and list). Unique: generating a period twice, or twice at once, plans it once.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("round_rules.id"))
    period_start: Mapped[date | None] = mapped_column(Date)
    rule_part: Mapped[str | None] = mapped_column(String(80))

    labs: Mapped[list[RoundLab]] = relationship(back_populates="round", order_by="RoundLab.id")

    __table_args__ = (Index("ux_inspection_rounds_rule_period", "rule_id", "period_start", "rule_part", unique=True),)


class RoundLab(db.Model):
    __tablename__ = "round_labs"
    # (round_id, lab_id) unique serves a round's labs; (round_id, inspector_id): "is this inspector
    # assigned in the round?" for each candidate inspection (services._qualifying).
    __table_args__ = (UniqueConstraint("round_id", "lab_id"),
                      Index("ix_round_labs_round_id_inspector_id", "round_id", "inspector_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id"))
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"), index=True)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    round: Mapped[InspectionRound] = relationship(back_populates="labs")


class RoundChange(db.Model):
    """What was done to a round, by whom and when (art. 30: records kept, nothing deleted)."""

    __tablename__ = "round_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the nightly job
    what: Mapped[str] = mapped_column(String(40))  # created, assigned
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class RoundLateFlag(db.Model):
    """A round's lab not done when its window ended, as the nightly job found it (kept, art. 30).

    A qualifying inspection synced afterwards (finished inside the window) still makes the lab done;
    the flag stays as the record of what was known that night."""

    __tablename__ = "round_late_flags"
    __table_args__ = (UniqueConstraint("round_id", "lab_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id"), index=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"))
    flagged_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Recurrence(str, enum.Enum):
    monthly = "monthly"  # each calendar month, school-local (art. 28)
    semester = "semester"  # each semester (art. 27; app/semesters.py)
    by_risk = "by_risk"  # each lab as often as its risk grade says (org.risk.default_cadence)


class RoundRule(db.Model):
    """A recurring round (rules.py): what to plan each period, for whom, by whom. Never deleted (a paused
    rule plans nothing); every change is a RoundRuleChange row (art. 30)."""

    __tablename__ = "round_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[RoundKind] = mapped_column(StrEnum(RoundKind))
    topic: Mapped[str | None] = mapped_column(String(32))  # special rules: a SPECIAL_TOPICS key
    owner_college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"), index=True)  # None: the school
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # a special rule's department
    checklist_key: Mapped[str | None] = mapped_column(String(64))  # None: by risk grade (org.risk.checklist_keys)
    selection: Mapped[dict] = mapped_column(JSON, default=dict)  # the labs, as RoundInSchema's ``labs``
    inspector_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # spread evenly over each round's labs
    recurrence: Mapped[Recurrence] = mapped_column(StrEnum(Recurrence))
    lead_days: Mapped[int] = mapped_column(Integer, default=7)  # a period's round is planned this many days before
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RoundRuleChange(db.Model):
    """What was done to a rule, by whom and when: created, paused, resumed, changed (art. 30)."""

    __tablename__ = "round_rule_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("round_rules.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    what: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


# ---- never deleted (art. 30) -------------------------------------------------------------------

class RoundDeletionRefused(RuntimeError):
    """Raised when anything tries to delete a round's records or rewrite its change log."""


# ORM guards and database triggers (app.db.kept; migration 0016 installs the rounds' triggers, 0014 the
# rules').
keep((InspectionRound, RoundLab, RoundChange, RoundLateFlag, RoundRule, RoundRuleChange),
     unchanged=(RoundChange, RoundLateFlag, RoundRuleChange), refused=RoundDeletionRefused)

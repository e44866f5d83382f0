"""Checklists as versioned data: a file's content becomes an immutable version, so an
inspection always shows the list it was made with."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import StrEnum, db
from app.timeutil import utcnow


class ChecklistKind(str, enum.Enum):
    daily = "daily"  # 日查, art. 29
    full = "full"  # monthly college (art. 28) and semester school checks (art. 27)
    special = "special"  # 专项检查, art. 27


class Severity(str, enum.Enum):
    general = "general"
    major = "major"  # 重大隐患, art. 29


class Checklist(db.Model):
    __tablename__ = "checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # file stem, e.g. "daily"
    kind: Mapped[ChecklistKind] = mapped_column(StrEnum(ChecklistKind))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("checklist_versions.id", use_alter=True), nullable=True
    )

    versions: Mapped[list[ChecklistVersion]] = relationship(
        back_populates="checklist",
        foreign_keys="ChecklistVersion.checklist_id",
        order_by="ChecklistVersion.number",
    )
    current_version: Mapped[ChecklistVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class ChecklistVersion(db.Model):
    """Immutable: an inspection points at the exact version it was answered against."""

    __tablename__ = "checklist_versions"
    __table_args__ = (
        UniqueConstraint("checklist_id", "number"),
        UniqueConstraint("checklist_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the normalised content
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    source_file: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    checklist: Mapped[Checklist] = relationship(back_populates="versions", foreign_keys=[checklist_id])
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="version", order_by="ChecklistItem.position"
    )


class ChecklistItem(db.Model):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("version_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(64))  # stable id across versions
    position: Mapped[int] = mapped_column(Integer)
    article: Mapped[str] = mapped_column(String(16))  # "16(2)" = 第十六条（二）
    text: Mapped[str] = mapped_column(Text)  # Chinese
    text_en: Mapped[str | None] = mapped_column(Text)
    # Empty list = applies to every category / regardless of hazards.
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    hazard_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[Severity] = mapped_column(StrEnum(Severity))
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)
    department_code: Mapped[str | None] = mapped_column(String(32))
    # Scoring (app/inspections/scoring.py): the item's share of the score, whether failing it fails
    # the inspection whatever the score (red line, 一票否决), and its MOE 2018 star level (1-3, shown
    # only). Stored per version, so an old inspection is always scored by the list it answered.
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    must_pass: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stars: Mapped[int | None] = mapped_column(Integer)

    version: Mapped[ChecklistVersion] = relationship(back_populates="items")

"""Issued documents (art. 28-30): each PDF stored once with its SHA-256, its number and who issued it;
never changed or deleted (guards.py). A re-issue is a new row that names the one it replaces."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import StrEnum, db
from app.timeutil import utcnow


class DocumentKind(str, enum.Enum):
    inspection_report = "inspection_report"  # 检查记录, kept on file (art. 28)
    rectification_notice = "rectification_notice"  # 整改通知书 per inspection with failures (art. 28, 29)
    written_report = "written_report"  # 书面报告 of a major or cannot-fix hazard (art. 29)
    monthly_summary = "monthly_summary"  # the school's or a college's month (art. 27, 28)
    # 整改回执 of a hazard whose fix was verified: the notice's reply slip, filled in (the measures, the
    # after-photos) and signed by the lab's officer and the reviewer (art. 28, 29)
    rectification_reply = "rectification_reply"
    accident_report = "accident_report"  # 事故报告: the unit's written report of an accident (art. 31)
    accident_inquiry = "accident_inquiry"  # 事故调查报告: the school team's investigation (art. 32)


# The documents of one ticket (read by the ticket's readers, policy DOWNLOAD_TICKET_DOCUMENT).
TICKET_KINDS = frozenset({DocumentKind.written_report, DocumentKind.rectification_reply})


# The letters a document number carries for its kind (检查 / 整改 / 书面报告 / 月报).
KIND_CODES = {
    DocumentKind.inspection_report: "JC",
    DocumentKind.rectification_notice: "ZG",
    DocumentKind.written_report: "SB",
    DocumentKind.monthly_summary: "YB",
    DocumentKind.rectification_reply: "HZ",
    DocumentKind.accident_report: "SG",
    DocumentKind.accident_inquiry: "DC",
}


class IssuedDocument(db.Model):
    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # <SCHOOL_CODE>-<year>-<kind code>-<sequence in that year and kind>, e.g. HZNU-2026-ZG-00012.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[DocumentKind] = mapped_column(StrEnum(DocumentKind), index=True)
    # What it is of, in which language, which issue (1 the first, 2 its re-issue...): two first
    # downloads at once file one document, the other finds it (services.issue).
    issue_key: Mapped[str] = mapped_column(String(120), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    lab_id: Mapped[int | None] = mapped_column(ForeignKey("labs.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_tickets.id"), index=True)
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"))
    month: Mapped[date | None] = mapped_column(Date)
    accident_id: Mapped[int | None] = mapped_column(ForeignKey("accidents.id"), index=True)  # app.accidents
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("issued_documents.id"), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int] = mapped_column(Integer)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only to serve it

"""Factories for the monthly summary: raw rows of other domains, with exact timestamps.

The summary reads inspections, tickets, events, missed checks and closures read-only; these helpers
write them directly (no business rules) so a test controls every timestamp to the second.
"""
from __future__ import annotations

import itertools
import uuid as uuidlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.checklists.models import Checklist, ChecklistKind, ChecklistVersion
from app.extensions import db
from app.inspections.models import Inspection, InspectionLevel, MissedDailyCheck
from app.org.models import LabClosure
from app.tickets.models import RectificationTicket, TicketEvent, TicketLevel, TicketState

SHANGHAI = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def local(y, m, d, hh=10, mm=0) -> datetime:
    """A school-local wall time as the naive UTC the database stores."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def make_checklist_version() -> ChecklistVersion:
    n = next(_seq)
    checklist = Checklist(key=f"report-test-{n}", kind=ChecklistKind.full, title="检查表")
    db.session.add(checklist)
    db.session.flush()
    version = ChecklistVersion(checklist_id=checklist.id, number=1, content_hash=f"{n:064d}", title="检查表",
                               source_file="test.toml")
    db.session.add(version)
    db.session.commit()
    return version


def add_inspection(lab, level: str, finished_at: datetime, *, inspector, version) -> Inspection:
    insp = Inspection(
        uuid=str(uuidlib.uuid4()), payload_hash="0" * 64, lab_id=lab.id, checklist_version_id=version.id,
        level=InspectionLevel(level), inspector_id=inspector.id, started_at=finished_at, finished_at=finished_at,
        received_at=finished_at,
    )
    db.session.add(insp)
    return insp


def add_ticket(lab, article: str, severity: str, created_at: datetime, deadline: datetime,
               closed_at: datetime | None = None, level: str = "lab") -> RectificationTicket:
    t = RectificationTicket(
        lab_id=lab.id, article=article, title=f"隐患 {article}", severity=severity,
        state=TicketState.closed if closed_at else TicketState.open, level=TicketLevel(level),
        deadline=deadline, created_at=created_at, updated_at=closed_at or created_at, closed_at=closed_at,
    )
    db.session.add(t)
    db.session.flush()
    # As the ticket services record it: the creation event carries the deadline it set.
    db.session.add(TicketEvent(ticket_id=t.id, kind="created", to_state="open", to_level="lab", to_deadline=deadline,
                               created_at=created_at))
    if closed_at:
        db.session.add(TicketEvent(ticket_id=t.id, kind="verify", from_state="fix_submitted", to_state="closed",
                                   created_at=closed_at))
    return t


def add_event(ticket, kind: str, at: datetime, from_level: str | None = None, to_level: str | None = None,
              to_deadline: datetime | None = None):
    ev = TicketEvent(ticket_id=ticket.id, kind=kind, from_level=from_level, to_level=to_level,
                     to_deadline=to_deadline, created_at=at)
    db.session.add(ev)
    return ev


def add_missed(lab, *days: date, flagged_at: datetime | None = None):
    """Flags as the nightly job writes them: at 00:30 school time after the day (unless ``flagged_at``)."""
    for d in days:
        when = flagged_at or local(d.year, d.month, d.day, 0, 30) + timedelta(days=1)
        db.session.add(MissedDailyCheck(lab_id=lab.id, day=d, flagged_at=when))


def add_closure(lab, start: date, end: date, reason: str = "假期"):
    db.session.add(LabClosure(lab_id=lab.id, start_date=start, end_date=end, reason=reason))

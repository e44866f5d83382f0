"""Factories for tickets, photos attached to them, daily checks and notices."""
from __future__ import annotations

import itertools
import uuid as _uuid
from datetime import datetime, timedelta

from flask import current_app

from app.extensions import db
from app.photos.models import Photo

_seq = itertools.count(1)


def make_ticket(
    lab,
    *,
    severity: str = "general",
    article: str = "24(6)",
    title: str | None = None,
    actor=None,
    description: str = "",
    created_at: datetime | None = None,
    deadline: datetime | None = None,
):
    """A ticket opened as an inspection would open it (routing, notices, major -> college), committed."""
    from app.tickets.lifecycle import create_ticket

    n = next(_seq)
    ticket = create_ticket(lab=lab, article=article, title=title or f"隐患{n}", severity=severity,
                           config=current_app.config, actor_id=getattr(actor, "id", actor), description=description)
    if created_at is not None:
        ticket.created_at = created_at
    if deadline is not None:
        ticket.deadline = deadline
    db.session.commit()
    return ticket


def make_photo_row(user=None) -> Photo:
    """A Photo row (no file) standing for an uploaded after-photo; enough for the ticket rules."""
    n = next(_seq)
    photo = Photo(uuid=str(_uuid.uuid4()), sha256=f"{n:064x}", media_type="image/jpeg", byte_size=100, width=10,
                  height=10, original_key=f"k{n}", display_key=f"d{n}", thumb_key=f"t{n}",
                  uploaded_by_id=getattr(user, "id", user))
    db.session.add(photo)
    db.session.commit()
    return photo


def make_daily_check(lab, user, finished_at: datetime, version=None):
    """A daily inspection row finished at ``finished_at`` (naive UTC); only its time matters to the job."""
    from app.inspections.models import Inspection, InspectionLevel

    from .inspections import make_checklist_version

    if version is None:
        version = make_checklist_version("daily")
    n = next(_seq)
    insp = Inspection(uuid=str(_uuid.uuid4()), payload_hash=f"{n:064x}", lab_id=lab.id,
                      checklist_version_id=version.id, level=InspectionLevel.daily, inspector_id=user.id,
                      started_at=finished_at - timedelta(minutes=5), finished_at=finished_at)
    db.session.add(insp)
    db.session.commit()
    return insp


def backdate_lab(lab, when: datetime = datetime(2020, 1, 1)):
    """Labs are checked from the first whole day after they were created: make one old enough."""
    lab.created_at = when
    db.session.commit()
    return lab

"""One rule for who hears of a ticket reaching a level: a person's escalation (raise_level) and the
nightly job's (escalate_overdue) write the same notices, keys and stored titles."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.jobs.services import run_nightly
from app.notifications.models import Notification
from app.tickets.escalation import raise_level
from app.tickets.models import TicketLevel
from app.timeutil import utcnow
from tests.factories import make_ticket

OVERDUE_BY = datetime(2026, 3, 1, 8, 0)  # within the school day 2026-03-01 (Asia/Shanghai)


def _level_notices(ticket) -> set[tuple]:
    """The ticket's level notices (not "overdue", which only the nightly job sends), ids made generic."""
    rows = db.session.scalars(select(Notification).where(Notification.ticket_id == ticket.id,
                                                         Notification.kind.in_(["escalated", "routed"])))
    return {(n.user_id, n.kind, n.dedupe_key.replace(f":{ticket.id}:", ":ID:"), n.title.replace("A", "B"))
            for n in rows}


def _escalate_both(w, severity: str, to: TicketLevel, *, cannot_fix: bool = False):
    by_night = make_ticket(w.lab, severity=severity, title="A", deadline=OVERDUE_BY)
    by_hand = make_ticket(w.lab, severity=severity, title="B")
    for t in (by_night, by_hand):
        t.cannot_fix = cannot_fix
    db.session.commit()
    run_nightly(date(2026, 3, 1), current_app.config, send_mail=False)
    db.session.refresh(by_night)
    assert by_night.level == to
    raise_level(by_hand, to, current_app.config, utcnow(), actor_id=w.leader.id)
    db.session.commit()
    return by_night, by_hand


@pytest.mark.parametrize("severity, to, cannot_fix", [
    ("general", TicketLevel.college, False),
    ("major", TicketLevel.school, False),  # a major ticket starts at college level
    ("general", TicketLevel.college, True),  # cannot be fixed: the department hears at college level too
])
def test_the_nightly_and_a_person_notify_alike(app, w, severity, to, cannot_fix):
    by_night, by_hand = _escalate_both(w, severity, to, cannot_fix=cannot_fix)
    night, hand = _level_notices(by_night), _level_notices(by_hand)
    assert night and night == hand
    routed = {user for user, kind, _key, _title in night if kind == "routed"}
    assert routed == ({w.dept_lab_mgmt.id} if (severity == "major" or cannot_fix) else set())

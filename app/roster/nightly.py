"""The roster's part of the nightly job (art. 13): access about to expire is announced in time.

For a school-local day processed by app.jobs (``remind_expiring``): every access not revoked whose
``valid_until`` falls within ACCESS_REMIND_DAYS days after the day (and not before it) is announced
to the lab's officers and, when the person is a user (their username is the staff number, or their
e-mail is the row's), to the person. Once per access period: the notice's dedupe key names the row
and its expiry (``access_expiring:<entry>:<valid_until>``), so later nights, a catch-up or a second
run write nothing more, and a renewed access (a new expiry) is announced again when its turn comes.

Set-based: two INSERT ... SELECT statements whatever the number of labs and people.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, literal, or_, select

from app.auth.models import User
from app.notifications import services as notices
from app.org.models import Lab

from .models import RosterEntry

ACCESS_EXPIRING = notices.ACCESS_EXPIRING


def remind_days(config: dict) -> int:
    return int(config.get("ACCESS_REMIND_DAYS") or 14)


def _expiring(day: date, config: dict):
    return (select().select_from(RosterEntry).join(Lab, Lab.id == RosterEntry.lab_id)
            .where(RosterEntry.revoked_at.is_(None), RosterEntry.valid_until > day,
                   RosterEntry.valid_until <= day + timedelta(days=remind_days(config))))


def remind_expiring(day: date, now: datetime, config: dict) -> dict:
    """See the module docstring. Returns {"notifications": how many were written}."""
    key = notices.text_of("access_expiring:", RosterEntry.id, ":", RosterEntry.valid_until)
    title = RosterEntry.name + literal(" (") + RosterEntry.staff_no + literal(") · ") + notices.text_of(
        RosterEntry.valid_until)
    common = dict(dedupe_key=key, lab_id=Lab.id, lab_name=Lab.name, title=title, now=now,
                  params={"day": day.isoformat()})
    sent = notices.notify_selected(
        ACCESS_EXPIRING, _expiring(day, config), (notices.lab_officers_of, RosterEntry.lab_id),
        link=notices.text_of("/labs/", RosterEntry.lab_id, "/roster"), **common,
    )
    person = or_(User.username == RosterEntry.staff_no,
                 and_(RosterEntry.email != "", User.email == RosterEntry.email))
    sent += notices.notify_selected(
        ACCESS_EXPIRING, _expiring(day, config).join(User, person), (None, User.id), link=literal("/"), **common,
    )
    return {"notifications": sent}

"""The nightly job (art. 29): an orchestrator over the owners' set-based functions.

``run_nightly(up_to_day, config)`` processes every school-local day not yet processed (one
NightlyRun row per day) up to ``up_to_day`` (default: the day that just ended in the school's
time zone), oldest first, each day in its own transaction:

1. claim the day: on PostgreSQL an advisory lock serialises concurrent copies (and late daily
   checks, inspections.daily_checks), and the NightlyRun primary key makes a second claim of the
   same day fail (SQLite serialises writers); a day already claimed is skipped, so running twice or
   two copies at once double nothing;
2. flag the labs that missed the day's daily check and tell those concerned
   (inspections.daily_checks.flag_missed);
3. escalate every ticket overdue by the end of the day (tickets.escalation.escalate_overdue);
   deadlines count from the end of the day processed, not from "now", so a catch-up after a gap
   gives exactly the result of one run per night;
4. flag the rounds' labs not done when their window ended, remind the assigned inspectors before
   it ends and tell the rounds' owners after (rounds.nightly.flag_late);
5. plan the rounds the recurring rules have due by the next day (rounds.rules.plan_due_rounds; a
   catch-up plans what one run a night would have: each period once, by its unique key);
6. queue the e-mails of the notices written (notifications.queue_emails_written_at);
7. (before 6) remind the lab's officers, and the person when a user, of lab access (准入, art. 13)
   expiring within ACCESS_REMIND_DAYS days, once per access period (roster.nightly.remind_expiring);
8. (before 6) remind the college's leader and head of an accident's unit report due within two days,
   and tell them and the school office once it is overdue (art. 31; accidents.nightly.remind_unit_reports).

Set-based: a fixed number of SQL statements per day whatever the number of labs or tickets. This
module writes only nightly_runs.

Only a day that is over can be processed (``refuse_unfinished_day``, in run_nightly and
process_day alike): a running or future day raises DayNotOver and nothing is written.

Days: China has no daylight saving time, so a Shanghai day is always [16:00 UTC the day before,
16:00 UTC); the bounds come from zoneinfo (app.timeutil.day_bounds_utc), so a zone with DST
(23- or 25-hour days) works the same way.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.accidents import nightly as accidents_nightly
from app.errors import InvalidInput
from app.extensions import db
from app.inspections import daily_checks
from app.notifications import services as notices
from app.roster import nightly as roster_nightly
from app.rounds import nightly as rounds_nightly
from app.rounds import rules as round_rules
from app.tickets import escalation
from app.timeutil import day_bounds_utc, school_today, utcnow

from .models import NightlyRun

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = daily_checks.DAY_LOCK_KEY  # shared with the late daily checks that clear flags


def day_just_ended(config: dict) -> date:
    return school_today(config["SCHOOL_TIMEZONE"]) - timedelta(days=1)


class DayNotOver(InvalidInput):
    """A day that has not ended in the school's time zone: nothing is known yet about its checks."""


def refuse_unfinished_day(day: date, config: dict) -> None:
    """Only a day that is over may be processed: a running or future day would flag every lab,
    escalate tickets early and be marked done, so the real run would skip it (art. 29)."""
    tz = config["SCHOOL_TIMEZONE"]
    if day_bounds_utc(day, tz)[1] > utcnow():
        last = day_just_ended(config)
        raise DayNotOver(
            f"The day {day.isoformat()} has not ended yet in {tz}; the nightly job processes only days "
            f"that are over (the latest is {last.isoformat()}).",
            {"day": day.isoformat(), "latest": last.isoformat()},
        )


def days_to_process(up_to_day: date) -> list[date]:
    """From the day after the last processed one up to ``up_to_day``; only that day on a first run."""
    last = last_processed_day()
    if last is None or last >= up_to_day:
        return [up_to_day]
    return [last + timedelta(days=i) for i in range(1, (up_to_day - last).days + 1)]


def run_nightly(up_to_day: date | None, config: dict, *, send_mail: bool = True) -> dict:
    """Process every unprocessed day up to ``up_to_day``; then send the outbox (when SMTP is set)."""
    up_to_day = up_to_day or day_just_ended(config)
    refuse_unfinished_day(up_to_day, config)
    summary = {"days": [], "skipped": [], "missed": 0, "escalated": 0, "round_late": 0, "rounds_planned": 0,
               "notifications": 0, "emails": 0}
    days = days_to_process(up_to_day)
    db.session.commit()  # end the read transaction; each day gets its own
    for day in days:
        result = process_day(day, config)
        if result is None:
            summary["skipped"].append(day.isoformat())
            continue
        summary["days"].append(day.isoformat())
        for k in ("missed", "escalated", "round_late", "rounds_planned", "notifications", "emails"):
            summary[k] += result[k]
    if send_mail:
        summary["mail"] = notices.send_outbox(config)
    return summary


def process_day(day: date, config: dict) -> dict | None:
    """One school-local day, in one transaction. None when the day was already processed."""
    refuse_unfinished_day(day, config)
    end = day_bounds_utc(day, config["SCHOOL_TIMEZONE"])[1]
    now = utcnow()
    session = db.session
    try:
        # Two copies started at once: the second waits here, then sees the day is done.
        daily_checks.lock_days()
        if session.scalar(select(NightlyRun.day).where(NightlyRun.day == day)) is not None:
            session.rollback()
            return None
        # Claim the day first: its primary key refuses a second claim (SQLite: a second writer waits here).
        session.execute(insert(NightlyRun.__table__).values(day=day, started_at=now, finished_at=None))
        flagged = daily_checks.flag_missed(day, now, config)
        climbed = escalation.escalate_overdue(day, end, now, config)
        late = rounds_nightly.flag_late(day, end, now, config)
        planned = round_rules.plan_due_rounds(day, config)
        access = roster_nightly.remind_expiring(day, now, config)
        accident_reports = accidents_nightly.remind_unit_reports(day, end, now, config)
        counts = {"missed": flagged["missed"], "escalated": climbed["escalated"], "round_late": late["late"],
                  "rounds_planned": planned["planned"],
                  "notifications": flagged["notifications"] + climbed["notifications"] + late["notifications"]
                  + access["notifications"] + accident_reports["notifications"],
                  "emails": notices.queue_emails_written_at(now, config)}
        session.execute(update(NightlyRun.__table__).where(NightlyRun.day == day).values(finished_at=utcnow()))
        session.commit()
    except IntegrityError:
        # Another copy claimed this day between our check and our insert: it is theirs.
        session.rollback()
        return None
    except BaseException:
        session.rollback()
        raise
    session.expire_all()  # ORM objects loaded before may predate the set-based UPDATEs
    log.info("nightly %s: %s", day, counts)
    return counts


def last_processed_day() -> date | None:
    return db.session.scalar(select(func.max(NightlyRun.day)))


__all__ = ["run_nightly", "process_day", "days_to_process", "last_processed_day"]

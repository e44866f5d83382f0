"""Missed daily checks (art. 29): a daily check is an inspection, so the days a lab went without one
are this domain's. The nightly job flags a day (``flag_missed``, set-based); a check synced late
clears its flag (``clear_missed_check``, in the submit's transaction).

Flagging a day: every active lab (of an active college, existing when the day began) with no daily
inspection finished within the day's UTC bounds and not closed that day (org.closures.closed_on:
holidays closed in bulk, renovation) is flagged;
its officers are told; the college (leaders and head) is told on the day a lab's run of misses
reaches MISSED_CHECKS_NOTIFY_COLLEGE_AFTER consecutive days. A fixed number of statements whatever
the number of labs; the notices carry dedupe keys, so flagging twice doubles nothing.

A daily check that syncs after its day was flagged: within LATE_SYNC_DAYS after the day ended the
flag gets cleared_at and the clearing inspection (kept, art. 30), and the college people told of a
run of misses that counted that day get a correction. Flags cleared are not misses: the streak
rule reads standing flags only.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, insert, literal, select, update

from app.extensions import db
from app.notifications import services as notices
from app.org.closures import closed_on
from app.org.models import College, Lab
from app.org.services import active_throughout
from app.timeutil import day_bounds_utc, local_day_of

from .models import Inspection, InspectionLevel, MissedDailyCheck

# Held exclusively by whoever flags a day and shared by a late check clearing its flag (PostgreSQL;
# SQLite serialises writers): a check committed just before the flagging is seen by it, one
# committed after finds its flag. Any constant shared by every copy ("labsafe nightly").
DAY_LOCK_KEY = 0x1AB5AFE


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def lock_days() -> None:
    """Serialise flagging days against clearing flags and against another flagging (PostgreSQL)."""
    if _is_postgres():
        db.session.execute(select(func.pg_advisory_xact_lock(DAY_LOCK_KEY)))


def missed_link(lab_id):
    """The lab's missed-checks page: a str for an id, the same text as SQL for a column."""
    return notices.text_of("/labs/", lab_id, "/missed-checks")


def _streak_length(config: dict) -> int:
    return int(config.get("MISSED_CHECKS_NOTIFY_COLLEGE_AFTER") or 3)


def _streak_key(lab_id, day: str):
    return notices.text_of("missed_streak:", lab_id, f":{day}")


def flag_missed(day: date, now: datetime, config: dict) -> dict:
    """Flag the labs that missed ``day``'s check and tell those concerned (see the module docstring).
    Returns {"missed": flags written, "notifications": notices written}."""
    start, end = day_bounds_utc(day, config["SCHOOL_TIMEZONE"])
    checked = select(Inspection.lab_id).where(
        Inspection.level == InspectionLevel.daily, Inspection.finished_at >= start, Inspection.finished_at < end,
    )
    already = select(MissedDailyCheck.lab_id).where(MissedDailyCheck.day == day)
    labs = (
        select(Lab.id, literal(day, type_=db.Date), literal(now, type_=db.DateTime))
        .join(College, College.id == Lab.college_id)
        .where(active_throughout(start, end), College.active.is_(True),
               Lab.id.not_in(checked), ~closed_on(day), Lab.id.not_in(already))
    )
    missed = db.session.execute(
        insert(MissedDailyCheck.__table__).from_select(["lab_id", "day", "flagged_at"], labs)
        .execution_options(preserve_rowcount=True)
    ).rowcount or 0

    d = day.isoformat()
    standing = (select().select_from(MissedDailyCheck).join(Lab, Lab.id == MissedDailyCheck.lab_id)
                .where(MissedDailyCheck.day == day, MissedDailyCheck.cleared_at.is_(None)))
    sent = notices.notify_selected(
        notices.MISSED_CHECK, standing, (notices.lab_officers_of, MissedDailyCheck.lab_id), params={"day": d},
        dedupe_key=notices.text_of("missed:", Lab.id, f":{d}"), link=missed_link(Lab.id), lab_id=Lab.id,
        lab_name=Lab.name, now=now,
    )

    # Art. 29: repeated misses reach the college, on the day the run reaches n days.
    n = _streak_length(config)
    streak = (
        select(MissedDailyCheck.lab_id)
        .where(MissedDailyCheck.day > day - timedelta(days=n), MissedDailyCheck.day <= day,
               MissedDailyCheck.cleared_at.is_(None))
        .group_by(MissedDailyCheck.lab_id).having(func.count() == n)
    )
    before = select(MissedDailyCheck.lab_id).where(MissedDailyCheck.day == day - timedelta(days=n),
                                                   MissedDailyCheck.cleared_at.is_(None))
    sent += notices.notify_selected(
        notices.MISSED_STREAK, select().select_from(Lab).where(Lab.id.in_(streak), Lab.id.not_in(before)),
        (notices.college_oversight_of, Lab.college_id), params={"day": d, "days": n},
        dedupe_key=_streak_key(Lab.id, d), link=missed_link(Lab.id), lab_id=Lab.id, lab_name=Lab.name, now=now,
    )
    return {"missed": missed, "notifications": sent}


# ---- a daily check synced late -----------------------------------------------------------

_mc = MissedDailyCheck.__table__.c
_CLEAR = (
    update(MissedDailyCheck.__table__)
    .where(_mc.lab_id == bindparam("_lab"), _mc.day == bindparam("_day"), _mc.cleared_at.is_(None))
    .values(cleared_at=bindparam("_now"), cleared_by_inspection_id=bindparam("_inspection"))
)


def late_sync_limit(day: date, config: dict):
    """Until when (naive UTC, exclusive) a daily check of ``day`` may still clear its flag: the end
    of the day plus LATE_SYNC_DAYS. Past it the day's flag, and its figures, are final."""
    return day_bounds_utc(day, config["SCHOOL_TIMEZONE"])[1] + timedelta(days=int(config["LATE_SYNC_DAYS"]))


def clear_missed_check(*, lab_id: int, college_id: int, lab_name: str, inspection_id: int, finished_at,
                       received_at, config: dict, lab_name_en: str | None = None) -> date | None:
    """A daily check just stored (in the caller's transaction, not committed here) clears the
    flag of its day, if there is one standing and the check is not too late.

    The day is the school-local day of the check's ``finished_at`` (the phone's, art. 29: the lab
    was checked that day, whenever the phone found a network). The flag is cleared only while
    ``received_at`` is before ``late_sync_limit``; an older check is stored by the caller but
    changes nothing here. A check in the future cannot clear anything: only days that are over are
    ever flagged. The flag is kept, with cleared_at and the inspection (art. 30). Returns the day
    cleared, or None.
    """
    day = local_day_of(finished_at, config["SCHOOL_TIMEZONE"])
    if received_at >= late_sync_limit(day, config):
        return None
    session = db.session
    if _is_postgres():
        # Shared: late checks do not wait for each other, only for a day being flagged (DAY_LOCK_KEY).
        session.execute(select(func.pg_advisory_xact_lock_shared(DAY_LOCK_KEY)))
    cleared = session.execute(
        _CLEAR, {"_lab": lab_id, "_day": day, "_now": received_at, "_inspection": inspection_id},
        execution_options={"preserve_rowcount": True},
    ).rowcount
    if not cleared:
        return None
    _correct_streak_notices(lab_id, college_id, notices.TitleFacts(lab=lab_name, lab_en=lab_name_en), day, config)
    return day


def _correct_streak_notices(lab_id: int, college_id: int, lab: notices.TitleFacts, day: date, config: dict) -> None:
    """The college people told of a run of misses that counted ``day`` hear that it was checked.

    A streak notice of day S covered the days (S - n, S], so the one that counted ``day`` is dated
    within [day, day + n). At most one such notice exists per lab: two would be one run."""
    n = _streak_length(config)
    keys = [_streak_key(lab_id, (day + timedelta(days=i)).isoformat()) for i in range(n)]
    told = notices.holders_of(notices.MISSED_STREAK, keys, among=notices.college_oversight(college_id))
    for key, users in told.items():
        streak_day = key.rsplit(":", 1)[1]
        notices.notify(
            users,
            kind=notices.MISSED_STREAK_CORRECTED,
            facts=lab,
            params={"day": day.isoformat(), "streak_day": streak_day},
            config=config,
            link=missed_link(lab_id),
            lab_id=lab_id,
            dedupe_key=f"missed_streak_corrected:{lab_id}:{streak_day}:{day.isoformat()}",
        )


# ---- reading -------------------------------------------------------------------------------

def missed_checks_for_lab(lab_id: int, limit: int = 366, *, standing_only: bool = False) -> list[MissedDailyCheck]:
    """A lab's flags, most recent first; cleared ones too unless ``standing_only``."""
    stmt = select(MissedDailyCheck).where(MissedDailyCheck.lab_id == lab_id)
    if standing_only:
        stmt = stmt.where(MissedDailyCheck.cleared_at.is_(None))
    return list(db.session.scalars(stmt.order_by(MissedDailyCheck.day.desc()).limit(limit)))

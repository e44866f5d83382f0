"""The nightly job (art. 29): missed daily checks, their notices, and overdue escalation.

``run_nightly(up_to_day, config)`` processes every school-local day not yet processed (one
NightlyRun row per day) up to ``up_to_day`` (default: the day that just ended in the school's
time zone), oldest first, each day in its own transaction:

1. claim the day: on PostgreSQL ``pg_advisory_xact_lock`` serialises concurrent copies, and the
   NightlyRun primary key makes a second claim of the same day fail (SQLite serialises writers);
   a day already claimed is skipped, so running twice or two copies at once double nothing;
2. flag every active lab (of an active college, existing when the day began) with no daily
   inspection finished within the day's UTC bounds and not closed that day (LabClosure);
3. notify its officers; notify the college (leaders and head) on the day a lab's run of misses
   reaches MISSED_CHECKS_NOTIFY_COLLEGE_AFTER consecutive days;
4. escalate every ticket still owed by the lab (open / fixing) whose deadline passed by the end
   of the day: one level up, a new deadline counted from the end of that day, an event with
   actor None, notices to the lab (overdue), the college, and at school level the department
   and the school. Deadlines count from the end of the day processed, not from "now", so a
   catch-up after a gap gives exactly the result of one run per night.

Set-based: a fixed number of SQL statements per day (INSERT ... SELECT, one UPDATE) whatever the
number of labs or tickets. Notices carry dedupe keys (unique per user), so they are idempotent.

A daily check that syncs after its day was flagged clears the flag (``clear_missed_check``,
called by the inspection submit in its transaction): within LATE_SYNC_DAYS after the day ended the
flag gets cleared_at and the clearing inspection (kept, art. 30), and the college people told of a
run of misses that counted that day get a correction. Flags cleared are not misses: the streak
rule below reads standing flags only.

Only a day that is over can be processed (``refuse_unfinished_day``, in run_nightly and
process_day alike): a running or future day raises DayNotOver and nothing is written.

Days: China has no daylight saving time, so a Shanghai day is always [16:00 UTC the day before,
16:00 UTC); the bounds come from zoneinfo (app.timeutil.day_bounds_utc), so a zone with DST
(23- or 25-hour days) works the same way.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import String, and_, bindparam, case, cast, exists, func, insert, literal, select, true, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, RoleAssignment, User
from app.checklists.models import Severity
from app.errors import InvalidInput
from app.extensions import db
from app.inspections.models import Inspection, InspectionLevel
from app.notifications import services as notices
from app.notifications.models import Notification
from app.org.models import College, Lab, LabClosure
from app.org.services import active_throughout
from app.tickets.escalation import ACTIVE_STATES
from app.tickets.models import RectificationTicket as T
from app.tickets.models import TicketEvent, TicketLevel
from app.timeutil import day_bounds_utc, local_day_of, school_today, utcnow

from .models import MissedDailyCheck, NightlyRun

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x1AB5AFE  # "labsafe nightly"; any constant shared by every copy


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
    last = db.session.scalar(select(func.max(NightlyRun.day)))
    if last is None or last >= up_to_day:
        return [up_to_day]
    return [last + timedelta(days=i) for i in range(1, (up_to_day - last).days + 1)]


def run_nightly(up_to_day: date | None, config: dict, *, send_mail: bool = True) -> dict:
    """Process every unprocessed day up to ``up_to_day``; then send the outbox (when SMTP is set)."""
    up_to_day = up_to_day or day_just_ended(config)
    refuse_unfinished_day(up_to_day, config)
    summary = {"days": [], "skipped": [], "missed": 0, "escalated": 0, "notifications": 0, "emails": 0}
    days = days_to_process(up_to_day)
    db.session.commit()  # end the read transaction; each day gets its own
    for day in days:
        result = process_day(day, config)
        if result is None:
            summary["skipped"].append(day.isoformat())
            continue
        summary["days"].append(day.isoformat())
        for k in ("missed", "escalated", "notifications", "emails"):
            summary[k] += result[k]
    if send_mail:
        summary["mail"] = notices.send_outbox(config)
    return summary


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _s(expr):
    return cast(expr, String)


def _title(lab_name, *parts):
    expr = lab_name
    for p in parts:
        expr = expr + literal(" · ") + p
    return func.substr(expr, 1, 300)


def process_day(day: date, config: dict) -> dict | None:
    """One school-local day, in one transaction. None when the day was already processed."""
    refuse_unfinished_day(day, config)
    tz = config["SCHOOL_TIMEZONE"]
    start, end = day_bounds_utc(day, tz)
    now = utcnow()
    session = db.session
    try:
        if _is_postgres():
            # Two copies started at once: the second waits here, then sees the day is done.
            session.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        if session.scalar(select(NightlyRun.day).where(NightlyRun.day == day)) is not None:
            session.rollback()
            return None
        # Claim the day first: its primary key refuses a second claim (SQLite: writers queue here).
        session.execute(insert(NightlyRun.__table__).values(day=day, started_at=now, finished_at=None))
        counts = _flag_missed(day, start, now, config)
        counts.update(_escalate_overdue(day, end, now, config))
        counts["notifications"] = counts.pop("n_missed") + counts.pop("n_streak") + counts.pop("n_tickets")
        counts["emails"] = _queue_emails(now, config)
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


def _rows(stmt) -> int:
    """Execute a DML statement; how many rows it wrote (psycopg needs the rowcount kept)."""
    return db.session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount or 0


def _lab_officer_join(lab_id_col):
    return and_(RoleAssignment.lab_id == lab_id_col, RoleAssignment.role == Role.lab_officer)


def _active_user(user_id_col):
    # A correlated primary-key probe rather than a join: a join on users.active lets SQLite's
    # planner scan every user per ticket (measured: 2 s at 5,000 labs), this stays one lookup per row.
    return exists().where(User.id == user_id_col, User.active.is_(True))


def _not_notified(user_id_col, key_expr):
    return ~exists().where(Notification.user_id == user_id_col, Notification.dedupe_key == key_expr)


def _params(facts: dict):
    # The facts a notice's title is rendered from, per reader (notifications.services.notice_title).
    return literal(facts, type_=Notification.__table__.c.params.type)


def _notification_insert(sel):
    cols = ["user_id", "kind", "title", "params", "body", "link", "dedupe_key", "ticket_id", "lab_id", "created_at"]
    return _rows(insert(Notification.__table__).from_select(cols, sel))


def _flag_missed(day: date, start, now, config: dict) -> dict:
    checked = select(Inspection.lab_id).where(
        Inspection.level == InspectionLevel.daily, Inspection.finished_at >= start,
        Inspection.finished_at < day_bounds_utc(day, config["SCHOOL_TIMEZONE"])[1],
    )
    closed = select(LabClosure.lab_id).where(LabClosure.start_date <= day, LabClosure.end_date >= day)
    already = select(MissedDailyCheck.lab_id).where(MissedDailyCheck.day == day)
    labs = (
        select(Lab.id, literal(day, type_=db.Date), literal(now, type_=db.DateTime))
        .join(College, College.id == Lab.college_id)
        .where(active_throughout(start, day_bounds_utc(day, config["SCHOOL_TIMEZONE"])[1]), College.active.is_(True),
               Lab.id.not_in(checked), Lab.id.not_in(closed), Lab.id.not_in(already))
    )
    missed = _rows(insert(MissedDailyCheck.__table__).from_select(["lab_id", "day", "flagged_at"], labs))

    d = day.isoformat()
    key = literal("missed:") + _s(Lab.id) + literal(f":{d}")
    officers = (
        select(RoleAssignment.user_id, literal(notices.MISSED_CHECK), _title(Lab.name, literal(d)),
               _params({"day": d}), literal(""),
               literal("/labs/") + _s(Lab.id) + literal("/missed-checks"), key, literal(None, type_=db.Integer),
               Lab.id, literal(now, type_=db.DateTime))
        .select_from(MissedDailyCheck)
        .join(Lab, Lab.id == MissedDailyCheck.lab_id)
        .join(RoleAssignment, _lab_officer_join(MissedDailyCheck.lab_id))
        .where(MissedDailyCheck.day == day, MissedDailyCheck.cleared_at.is_(None), _active_user(RoleAssignment.user_id),
               _not_notified(RoleAssignment.user_id, key))
        .distinct()
    )
    n_missed = _notification_insert(officers)

    # Art. 29: repeated misses reach the college, on the day the run reaches N days.
    n = int(config.get("MISSED_CHECKS_NOTIFY_COLLEGE_AFTER") or 3)
    streak = (
        select(MissedDailyCheck.lab_id)
        .where(MissedDailyCheck.day > day - timedelta(days=n), MissedDailyCheck.day <= day,
               MissedDailyCheck.cleared_at.is_(None))
        .group_by(MissedDailyCheck.lab_id).having(func.count() == n)
    )
    before = select(MissedDailyCheck.lab_id).where(MissedDailyCheck.day == day - timedelta(days=n),
                                                   MissedDailyCheck.cleared_at.is_(None))
    skey = literal("missed_streak:") + _s(Lab.id) + literal(f":{d}")
    college = (
        select(RoleAssignment.user_id, literal(notices.MISSED_STREAK),
               _title(Lab.name, literal(f"{n}"), literal(d)), _params({"day": d, "days": n}), literal(""),
               literal("/labs/") + _s(Lab.id) + literal("/missed-checks"), skey, literal(None, type_=db.Integer),
               Lab.id, literal(now, type_=db.DateTime))
        .select_from(Lab)
        .join(RoleAssignment, and_(RoleAssignment.college_id == Lab.college_id,
                                   RoleAssignment.role.in_([Role.college_leader, Role.college_head])))
        .where(Lab.id.in_(streak), Lab.id.not_in(before), _active_user(RoleAssignment.user_id),
               _not_notified(RoleAssignment.user_id, skey))
        .distinct()
    )
    n_streak = _notification_insert(college)
    return {"missed": missed, "n_missed": n_missed, "n_streak": n_streak}


def _escalate_overdue(day: date, end, now, config: dict) -> dict:
    session = db.session
    overdue = and_(T.state.in_(ACTIVE_STATES), T.deadline <= end)
    level = _s(T.level)
    next_level = case((T.level == TicketLevel.lab, literal("college")), else_=literal("school"))
    ticket_title = _title(Lab.name, T.article, T.title)
    link = literal("/tickets/") + _s(T.id)
    tid = _s(T.id)

    def ticket_notices(kind, recipients_join, where, key):
        sel = (
            select(RoleAssignment.user_id, literal(kind), ticket_title, _params({}), literal(""), link, key, T.id,
                   T.lab_id,
                   literal(now, type_=db.DateTime))
            .select_from(T).join(Lab, Lab.id == T.lab_id)
            .join(RoleAssignment, recipients_join)
            .where(overdue, where, _active_user(RoleAssignment.user_id), _not_notified(RoleAssignment.user_id, key))
            .distinct()
        )
        return _notification_insert(sel)

    sent = 0
    # Overdue -> the lab's officers, once per ticket and level (also at school level, where it cannot climb).
    sent += ticket_notices(notices.OVERDUE, _lab_officer_join(T.lab_id), true(),
                           literal("overdue:") + tid + literal(":") + level)
    climbing = T.level != TicketLevel.school
    # Escalated to my college (or on to the school) -> college leaders and head.
    sent += ticket_notices(
        notices.ESCALATED,
        and_(RoleAssignment.college_id == Lab.college_id,
             RoleAssignment.role.in_([Role.college_leader, Role.college_head])),
        climbing, literal("ticket:") + tid + literal(":level:") + next_level,
    )
    to_school = T.level == TicketLevel.college
    # Reaching the school -> the routed department (art. 9) and the school's administrators.
    sent += ticket_notices(
        notices.ROUTED,
        and_(RoleAssignment.department_id == T.department_id, RoleAssignment.role == Role.dept_officer),
        to_school, literal("ticket:") + tid + literal(":dept:school"),
    )
    sent += ticket_notices(notices.ESCALATED, RoleAssignment.role == Role.school_admin, to_school,
                           literal("ticket:") + tid + literal(":level:school"))

    # New deadline per severity and new level, counted from the end of the processed day.
    days = config["TICKET_DEADLINE_DAYS"]
    deadline = case(
        *[
            (and_(T.severity == sev, T.level == frm), literal(end + timedelta(days=days[(sev.value, to)]),
                                                            type_=db.DateTime))
            for sev in Severity
            for frm, to in ((TicketLevel.lab, "college"), (TicketLevel.college, "school"))
        ],
        else_=T.deadline,
    )
    # The events first (they read the level before the UPDATE), actor None = the nightly job; each
    # records the new deadline (to_deadline), so the ticket's past states can be read back. The note
    # is a key and its facts, rendered in each reader's language (tickets.labels.event_note).
    events = select(
        T.id, literal(None, type_=db.Integer), literal("escalate"), _s(T.state), _s(T.state), level, next_level,
        deadline, literal(""), literal("deadline_passed"),
        literal({"day": day.isoformat()}, type_=TicketEvent.__table__.c.note_params.type),
        literal(now, type_=db.DateTime),
    ).where(overdue, climbing)
    session.execute(insert(TicketEvent.__table__).from_select(
        ["ticket_id", "actor_id", "kind", "from_state", "to_state", "from_level", "to_level", "to_deadline", "note",
         "note_key", "note_params", "created_at"],
        events,
    ))
    escalated = _rows(
        update(T.__table__).where(overdue, climbing).values(
            level=case((T.level == TicketLevel.lab, TicketLevel.college.value), else_=TicketLevel.school.value),
            deadline=deadline, escalated_at=end, updated_at=now, version=T.version + 1,
        )
    )
    return {"escalated": escalated, "n_tickets": sent}


def _queue_emails(now, config: dict) -> int:
    """An outbox e-mail for each notice this run wrote, to users with an address, in each one's language."""
    return notices.queue_emails_written_at(now, config)


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
    nightly job's flag of its day, if there is one standing and the check is not too late.

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
        # The nightly job holds this lock exclusively while it flags a day: a check committed
        # just before the job looks is seen by it, one committed after finds its flag here.
        # (SQLite: both are writers, which take turns on the database's lock.)
        session.execute(select(func.pg_advisory_xact_lock_shared(ADVISORY_LOCK_KEY)))
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
    n = int(config.get("MISSED_CHECKS_NOTIFY_COLLEGE_AFTER") or 3)
    keys = [f"missed_streak:{lab_id}:{(day + timedelta(days=i)).isoformat()}" for i in range(n)]
    told = notices.holders_of(notices.MISSED_STREAK, keys, among=notices.college_oversight(college_id))
    for key, users in told.items():
        streak_day = key.rsplit(":", 1)[1]
        notices.notify(
            users,
            kind=notices.MISSED_STREAK_CORRECTED,
            facts=lab,
            params={"day": day.isoformat(), "streak_day": streak_day},
            config=config,
            link=f"/labs/{lab_id}/missed-checks",
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


def last_processed_day() -> date | None:
    return db.session.scalar(select(func.max(NightlyRun.day)))


__all__ = ["run_nightly", "process_day", "days_to_process", "clear_missed_check", "late_sync_limit",
           "missed_checks_for_lab", "last_processed_day"]

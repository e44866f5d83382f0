"""The monthly safety summary (art. 27, 28): per college and school-wide, with the month before.

Every figure comes from set-based SQL: a fixed number of statements (24: 21, and the rounds' 3)
whatever the number of labs, colleges and rounds. Reports are the one place allowed to read other domains' tables,
read-only.

Definitions (shown on the page and in the exports: exports.definitions):
- months are school-local (SCHOOL_TIMEZONE); a month's [start, end) is converted to naive UTC;
- a month is counted as it stood at its end ("as of": min(end, now)): tickets with the deadline and
  level their events say they had then (tickets.events.deadline_as_of / level_as_of, art. 30);
- labs: labs active at some moment of the month (org's dated active periods). Every figure counts
  these labs only: deactivating a lab later changes no past month, and a lab not active in a
  month is in none of its figures;
- open days: (lab, day) pairs on which the lab was active all day and not in a LabClosure, the days
  the nightly job judges; for the current month only days already over count;
- daily-check compliance: open days with at least one daily inspection / open days (art. 29);
- missed checks: the nightly job's flags on open days that still stood when the month became final
  (a daily check synced within LATE_SYNC_DAYS clears its day's flag); such a day is a miss, not a
  checked day too (never both);
- what reached the server later than the month's end + LATE_SYNC_DAYS (inspections' received_at,
  flags' flagged_at) is not counted: from then on the month is final and never changes;
- grades: college, school and special inspections finished in the month by the grade stored at
  submit (A pass, B pass after rectification, C re-check on site, D fail; app/inspections/scoring.py);
  daily checks and inspections with no grade (nothing answered pass or fail) are not in it;
- college checks (art. 28, monthly): labs with >= 1 college-level inspection in the month / labs;
- school checks (art. 27, 1-2 a semester): labs with >= 1 school-level inspection since the
  semester began (up to the month's end) / labs;
- hazards found: rectification tickets created in the month (one per failed answer), by article
  (main article number) and severity;
- rectified on time / late: tickets closed in the month at or before / after their deadline;
- overdue: tickets (any state but closed, a fix awaiting verification too) open at the month's end
  whose deadline then had passed;
- still open: tickets created before the month's end and not closed by then;
- escalated: tickets (not events) with an escalation event in the month (a level change, or kind
  "escalate(d)");
- median days to rectify: created -> closed, over tickets closed in the month;
- rounds (issue 22, app.rounds.services.round_figures): a round is the month's its window ends in;
  its labs planned, done (by the first qualifying inspection finished inside the window, whenever it
  synced: the round's own rule, so these figures may still change after the month is final) and
  late (not done, window over), per college (a school round's labs each for its own college), for
  the month and the ROUND_MONTHS - 1 months before; unannounced rounds from their first day on.
Percentages are rounded half up from the exact counts (Figures.*_pct).
"""
from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from app.accidents import services as accidents
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.inspections.models import Inspection, InspectionLevel, MissedDailyCheck
from app.org.models import College, Lab, LabClosure
from app.org.services import active_during, active_throughout, labs_active_during
from app.rounds.services import RoundFigures, round_figures
from app.semesters import semester_start as semester_start_on
from app.tickets.events import deadline_as_of, level_as_of
from app.tickets.models import RectificationTicket, TicketEvent
from app.timeutil import add_months, day_bounds_utc, percent, round_half_up, school_today, utcnow

LEVELS = tuple(level.value for level in InspectionLevel)  # daily, college, school, special
SEVERITIES = ("general", "major")
GRADES = ("A", "B", "C", "D")  # app/inspections/scoring.py
# The grade distribution counts the checks of the programme (college art. 28, school and special
# art. 27); the lab's own daily checks are scored too but would outnumber them thirty to one.
GRADED_LEVELS = ("college", "school", "special")
ESCALATION_KINDS = ("escalate", "escalated")
TOP_N = 10
ROUND_MONTHS = 6  # the rounds' month-over-month table: the month and the five before


# ---- periods -------------------------------------------------------------------------------

def parse_month(value: str | None) -> date:
    """'YYYY-MM' -> the first day of that month."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", (value or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise InvalidInput(_("Give the month as YYYY-MM, for example 2026-10."), {"month": value})
    return date(int(m.group(1)), int(m.group(2)), 1)


def default_month(config) -> date:
    """The last complete month, school time."""
    return add_months(school_today(config["SCHOOL_TIMEZONE"]).replace(day=1), -1)


def semester_start(month: date, config) -> date:
    """The first day of the semester the month belongs to (app.semesters: LABSAFE_SEMESTERS, else the
    start months): the one begun by the month's last day, so a semester starting on 7 September
    counts from September's summary on."""
    return semester_start_on(add_months(month.replace(day=1), 1) - timedelta(days=1), config)


@dataclass
class Period:
    month: date  # first day, school-local
    start_utc: datetime
    end_utc: datetime  # exclusive
    as_of_utc: datetime  # min(end, now): snapshots ("open at the month's end") for the current month
    days: list[tuple[date, datetime, datetime]]  # open-day candidates: (day, start_utc, end_utc)
    semester_start_utc: datetime
    # Daily checks may sync up to LATE_SYNC_DAYS after their day: the month is final from close_utc on.
    # Rows that reached the server (inspections' received_at, the nightly's flags) from then on are
    # not the month's, so a final month reads the same whenever it is asked for.
    close_utc: datetime
    known_by_utc: datetime  # min(close, now): what had arrived when the figures were taken

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def complete(self) -> bool:
        return self.as_of_utc >= self.end_utc

    @property
    def final(self) -> bool:
        return self.known_by_utc >= self.close_utc


def period_for(month: date, config, now: datetime | None, late_sync_days: int) -> Period:
    tz = config["SCHOOL_TIMEZONE"]
    now = now or utcnow()
    month = month.replace(day=1)
    nxt = add_months(month, 1)
    start_utc = day_bounds_utc(month, tz)[0]
    end_utc = day_bounds_utc(nxt, tz)[0]
    days = []
    day = month
    while day < nxt:
        d0, d1 = day_bounds_utc(day, tz)
        if d1 <= now:  # only days already over count (the current month)
            days.append((day, d0, d1))
        day += timedelta(days=1)
    return Period(
        month=month,
        start_utc=start_utc,
        end_utc=end_utc,
        as_of_utc=min(end_utc, now),
        days=days,
        semester_start_utc=day_bounds_utc(semester_start(month, config), tz)[0],
        close_utc=end_utc + timedelta(days=late_sync_days),
        known_by_utc=min(end_utc + timedelta(days=late_sync_days), now),
    )


# ---- result shapes ---------------------------------------------------------------------------

@dataclass
class Figures:
    """One scope (a college, or the school) in one month."""

    labs: int = 0
    open_days: int = 0
    checked_days: int = 0
    inspections: dict[str, int] = field(default_factory=lambda: {lv: 0 for lv in LEVELS})
    labs_with_college_check: int = 0  # art. 28: monthly
    labs_with_school_check_semester: int = 0  # art. 27: 1-2 a semester
    hazards: int = 0
    hazards_by_severity: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SEVERITIES})
    hazards_by_article: dict[str, int] = field(default_factory=dict)  # "16" -> n
    major_by_article: dict[str, int] = field(default_factory=dict)  # "16" -> n of them major
    rectified_on_time: int = 0
    rectified_late: int = 0
    overdue: int = 0
    escalated: int = 0
    still_open: int = 0
    median_days_to_rectify: float | None = None
    missed_checks: int = 0  # MissedDailyCheck rows (the nightly job's flags)
    # Graded college, school and special inspections by grade (A-D; GRADED_LEVELS).
    grades: dict[str, int] = field(default_factory=lambda: {g: 0 for g in GRADES})
    _durations: list[float] = field(default_factory=list, repr=False)

    @property
    def compliance(self) -> float | None:
        """Daily-check compliance as a fraction (art. 29); None when the labs had no open day."""
        return self.checked_days / self.open_days if self.open_days else None

    @property
    def college_check_coverage(self) -> float | None:
        return self.labs_with_college_check / self.labs if self.labs else None

    @property
    def school_check_coverage(self) -> float | None:
        return self.labs_with_school_check_semester / self.labs if self.labs else None

    # The same ratios in per cent as printed (pages, exports, charts): one decimal, rounded half up
    # from the exact counts (96.25 -> 96.3, as a reader checking in Excel gets).
    @property
    def compliance_pct(self) -> float | None:
        return percent(self.checked_days, self.open_days)

    @property
    def college_check_pct(self) -> float | None:
        return percent(self.labs_with_college_check, self.labs)

    @property
    def school_check_pct(self) -> float | None:
        return percent(self.labs_with_school_check_semester, self.labs)

    @property
    def rectified(self) -> int:
        return self.rectified_on_time + self.rectified_late

    def add(self, other: Figures) -> None:
        for name in ("labs", "open_days", "checked_days", "labs_with_college_check",
                     "labs_with_school_check_semester", "hazards", "rectified_on_time", "rectified_late",
                     "overdue", "escalated", "still_open", "missed_checks"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for lv, n in other.inspections.items():
            self.inspections[lv] = self.inspections.get(lv, 0) + n
        for s, n in other.hazards_by_severity.items():
            self.hazards_by_severity[s] = self.hazards_by_severity.get(s, 0) + n
        for a, n in other.hazards_by_article.items():
            self.hazards_by_article[a] = self.hazards_by_article.get(a, 0) + n
        for a, n in other.major_by_article.items():
            self.major_by_article[a] = self.major_by_article.get(a, 0) + n
        for g, n in other.grades.items():
            self.grades[g] = self.grades.get(g, 0) + n
        self._durations.extend(other._durations)
        self.median_days_to_rectify = _median(self._durations)


@dataclass
class CollegeRow:
    college_id: int | None
    code: str
    name: str
    name_en: str | None
    current: Figures
    previous: Figures


@dataclass
class MissedLab:
    lab_id: int
    lab_code: str
    lab_name: str
    college_code: str
    college_name: str
    missed: int


@dataclass
class OpenTicket:
    ticket_id: int
    lab_id: int
    lab_code: str
    lab_name: str
    college_code: str
    college_name: str
    article: str
    severity: str
    level: str
    created_at: datetime
    deadline: datetime
    age_days: float  # at the month's end (or now, for the current month)


@dataclass
class MonthlySummary:
    month: date
    previous_month: date
    college_id: int | None  # None: the whole school
    complete: bool  # False for the month still running (figures so far)
    semester_start: date
    total: CollegeRow  # the school (or the one college)
    colleges: list[CollegeRow]
    top_missed: list[MissedLab]
    oldest_open: list[OpenTicket]
    statements: int = 0  # how many SQL statements built it (when counted: CLI, benchmark)
    final: bool = True  # False until the late-sync bound after the month's end has passed
    final_from: date | None = None  # the school-local day from which the figures no longer change
    late_sync_days: int = 0
    rounds: RoundFigures | None = None  # planned / done / late per round and college, ROUND_MONTHS months
    # Accidents (app.accidents, art. 33) that happened in the month, per college and grade (confirmed, else
    # proposed), and the colleges with an accident in the month's year up to its end (art. 5's veto).
    accidents: dict[int, dict[str, int]] = field(default_factory=dict)
    accident_veto: dict[int, int] = field(default_factory=dict)

    @property
    def articles(self) -> list[str]:
        keys = set(self.total.current.hazards_by_article) | set(self.total.previous.hazards_by_article)
        return sorted(keys, key=_article_sort_key)


# ---- the summary ------------------------------------------------------------------------------

def monthly_summary(month: date, college_id: int | None, config, now: datetime | None = None,
                    count_statements: bool = False, late_sync_days: int | None = None) -> MonthlySummary:
    """The month's summary for the school (college_id None) or one college, the month before beside it.

    Every figure is taken as of the month's end (tickets' deadlines and levels from their events, the
    labs active in the month from their dated active periods) and from what had reached the server by
    the month's end plus ``late_sync_days`` (default: config LATE_SYNC_DAYS), so a final month reads
    the same next year; until then ``final`` is False and the page says the figures may still change.

    ``count_statements`` (CLI, benchmark) records how many SQL statements it took; it listens on the
    engine, so it is off for web requests, where other threads share the engine.
    """
    now = now or utcnow()
    month = month.replace(day=1)
    current_month_start = school_today(config["SCHOOL_TIMEZONE"], now).replace(day=1)
    if month > current_month_start:
        raise InvalidInput(_("That month has not begun yet."), {"month": month.strftime("%Y-%m")})

    counter = _StatementCounter(enabled=count_statements)
    with counter:
        college_stmt = select(College.id, College.code, College.name, College.name_en).order_by(College.code)
        if college_id is not None:
            college_stmt = college_stmt.where(College.id == college_id)
        colleges = db.session.execute(college_stmt).all()
        if college_id is not None and not colleges:
            raise NotFound(_("No such college."))

        if late_sync_days is None:
            late_sync_days = int(config.get("LATE_SYNC_DAYS", 7))
        cur = period_for(month, config, now, late_sync_days)
        prev = period_for(add_months(month, -1), config, now, late_sync_days)
        cur_figs = _figures_by_college(cur, college_id)
        prev_figs = _figures_by_college(prev, college_id)
        top_missed = _top_missed(cur, college_id)
        oldest = _oldest_open(cur, college_id)
        rounds = round_figures(add_months(month, 1 - ROUND_MONTHS), month, college_id, now)
        accident_counts = accidents.counts_by_grade(cur.start_utc, cur.as_of_utc, college_id)
        veto = accidents.vetoed_colleges(month.year, config["SCHOOL_TIMEZONE"],
                                         None if college_id is None else [college_id], until=cur.as_of_utc)

    rows = []
    for c in colleges:
        f_cur, f_prev = cur_figs.get(c.id, Figures()), prev_figs.get(c.id, Figures())
        rows.append(CollegeRow(c.id, c.code, c.name, c.name_en, f_cur, f_prev))
    if college_id is not None:
        total = rows[0]
    else:
        t_cur, t_prev = Figures(), Figures()
        for r in rows:
            t_cur.add(r.current)
            t_prev.add(r.previous)
        total = CollegeRow(None, "", "", None, t_cur, t_prev)
    return MonthlySummary(
        month=cur.month,
        previous_month=prev.month,
        college_id=college_id,
        complete=cur.complete,
        semester_start=semester_start(month, config),
        total=total,
        colleges=rows,
        top_missed=top_missed,
        oldest_open=oldest,
        statements=counter.count,
        final=cur.final,
        final_from=add_months(month, 1) + timedelta(days=late_sync_days),
        late_sync_days=late_sync_days,
        rounds=rounds,
        accidents=accident_counts,
        accident_veto=veto,
    )


class _StatementCounter:
    """Counts statements this summary issues (the benchmark and the tests report it)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.count = 0

    def _on_execute(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        from sqlalchemy import event

        if self.enabled:
            self._engine = db.engine
            event.listen(self._engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        if self.enabled:
            event.remove(self._engine, "before_cursor_execute", self._on_execute)
        return False


def _scope(college_id: int | None):
    return Lab.college_id == college_id if college_id is not None else true()


def _days_cte(period: Period):
    """The month's candidate days as a small derived table (n, day, start_utc, end_utc)."""
    if not period.days:
        # An impossible row keeps the SQL shape the same on the first day of a month.
        rows = [select(literal(0, Integer).label("n"), literal(date(1970, 1, 1), Date).label("day"),
                       literal(datetime(1970, 1, 1), DateTime).label("start_utc"),
                       literal(datetime(1970, 1, 1), DateTime).label("end_utc")).where(literal(1) == 0)]
    else:
        rows = [
            select(literal(d.day, Integer).label("n"), literal(d, Date).label("day"),
                   literal(s, DateTime).label("start_utc"), literal(e, DateTime).label("end_utc"))
            for d, s, e in period.days
        ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).cte("month_days")


def _figures_by_college(p: Period, college_id: int | None) -> dict[int, Figures]:
    figs: dict[int, Figures] = defaultdict(Figures)
    scope = _scope(college_id)
    # The month's labs: active at some moment of the month (so far). Every figure below counts these
    # labs only, whatever they are today (deactivating a lab later changes none of them).
    # (An IN over a subquery that does not depend on the row: the database works the set out once.)
    in_month = and_(Lab.id.in_(labs_active_during(p.start_utc, p.as_of_utc)), scope)
    known = Inspection.received_at < p.known_by_utc  # late syncs count until the month is final

    # 1. Labs.
    for cid, n in db.session.execute(
        select(Lab.college_id, func.count()).where(in_month).group_by(Lab.college_id)
    ):
        figs[cid].labs = n

    # 2. Open lab-days (art. 29), those with a daily check, and those missed, in one pass over the
    # month's (lab, day) pairs: see _lab_days.
    for cid, open_days, checked_days, missed in db.session.execute(
        _lab_days(p, college_id, Lab.college_id).group_by(Lab.college_id)
    ):
        f = figs[cid]
        f.open_days, f.checked_days, f.missed_checks = open_days, int(checked_days or 0), int(missed or 0)

    # 3. Inspections at each level, and by grade (the same statement: grouped by grade too).
    for cid, level, grade, n in db.session.execute(
        select(Lab.college_id, Inspection.level, Inspection.grade, func.count())
        .select_from(Inspection)
        .join(Lab, Lab.id == Inspection.lab_id)
        .where(Inspection.finished_at >= p.start_utc, Inspection.finished_at < p.end_utc, known, in_month)
        .group_by(Lab.college_id, Inspection.level, Inspection.grade)
    ):
        f, level = figs[cid], getattr(level, "value", level)
        f.inspections[level] = f.inspections.get(level, 0) + n
        if grade in f.grades and level in GRADED_LEVELS:
            f.grades[grade] += n

    def labs_inspected(level, since):
        """Labs per college with at least one inspection of this level in [since, month end)."""
        return db.session.execute(
            select(Lab.college_id, func.count(distinct(Inspection.lab_id)))
            .select_from(Inspection)
            .join(Lab, Lab.id == Inspection.lab_id)
            .where(
                Inspection.level == level,
                Inspection.finished_at >= since,
                Inspection.finished_at < p.end_utc,
                known,
                in_month,
            )
            .group_by(Lab.college_id)
        )

    # Labs with a college check this month (art. 28: monthly).
    for cid, n in labs_inspected(InspectionLevel.college, p.start_utc):
        figs[cid].labs_with_college_check = n

    # 4. Labs with a school check this semester so far (art. 27).
    for cid, n in labs_inspected(InspectionLevel.school, p.semester_start_utc):
        figs[cid].labs_with_school_check_semester = n

    # 5. Hazards found: tickets created in the month, by article and severity.
    T = RectificationTicket
    for cid, article, severity, n in db.session.execute(
        select(Lab.college_id, T.article, T.severity, func.count())
        .select_from(T)
        .join(Lab, Lab.id == T.lab_id)
        .where(T.created_at >= p.start_utc, T.created_at < p.end_utc, in_month)
        .group_by(Lab.college_id, T.article, T.severity)
    ):
        f = figs[cid]
        severity = getattr(severity, "value", severity)
        f.hazards += n
        f.hazards_by_severity[severity] = f.hazards_by_severity.get(severity, 0) + n
        key = main_article(article)
        f.hazards_by_article[key] = f.hazards_by_article.get(key, 0) + n
        if severity == "major":
            f.major_by_article[key] = f.major_by_article.get(key, 0) + n

    # 6. Rectified on time / late, overdue and still open at the month's end. A closed ticket's deadline
    # no longer moves (only open and fixing tickets escalate); an open one is judged by the deadline it
    # had at the month's end (its events), not by one a later escalation gave it. Overdue counts
    # tickets, whatever their state short of closed (a fix awaiting verification too).
    end = p.as_of_utc
    closed_in_month = and_(T.closed_at >= p.start_utc, T.closed_at < p.end_utc)
    open_at_end = and_(T.created_at < end, or_(T.closed_at.is_(None), T.closed_at >= end))
    for cid, on_time, late, still_open, overdue in db.session.execute(
        select(
            Lab.college_id,
            func.sum(case((and_(closed_in_month, T.closed_at <= T.deadline), 1), else_=0)),
            func.sum(case((and_(closed_in_month, T.closed_at > T.deadline), 1), else_=0)),
            func.sum(case((open_at_end, 1), else_=0)),
            func.sum(case((and_(open_at_end, deadline_as_of(end) < end), 1), else_=0)),
        )
        .select_from(T)
        .join(Lab, Lab.id == T.lab_id)
        .where(T.created_at < p.end_utc, or_(T.closed_at.is_(None), T.closed_at >= p.start_utc), in_month)
        .group_by(Lab.college_id)
    ):
        f = figs[cid]
        f.rectified_on_time, f.rectified_late = int(on_time or 0), int(late or 0)
        f.still_open, f.overdue = int(still_open or 0), int(overdue or 0)

    # 7. Escalated in the month: tickets (not events) raised a level at least once in the month.
    E = TicketEvent
    escalation = or_(
        E.kind.in_(ESCALATION_KINDS),
        and_(E.from_level.is_not(None), E.to_level.is_not(None), E.from_level != E.to_level),
    )
    for cid, n in db.session.execute(
        select(Lab.college_id, func.count(distinct(E.ticket_id)))
        .select_from(E)
        .join(T, T.id == E.ticket_id)
        .select_from(T)
        .join(Lab, Lab.id == T.lab_id)
        .where(E.created_at >= p.start_utc, E.created_at < p.end_utc, escalation, in_month)
        .group_by(Lab.college_id)
    ):
        figs[cid].escalated = n

    # 8. Days to rectify: one row per ticket closed in the month, the median taken here (portable).
    for cid, created, closed_at in db.session.execute(
        select(Lab.college_id, T.created_at, T.closed_at)
        .select_from(T)
        .join(Lab, Lab.id == T.lab_id)
        .where(closed_in_month, in_month)
    ):
        figs[cid]._durations.append((closed_at - created).total_seconds() / 86400)
    for f in figs.values():
        f.median_days_to_rectify = _median(f._durations)

    return figs


def _closed_on(lab_id, day):
    return exists().where(LabClosure.lab_id == lab_id, LabClosure.start_date <= day, LabClosure.end_date >= day)


def _lab_days(p: Period, college_id: int | None, *group_columns):
    """SELECT ``group_columns``, open lab-days, checked ones, missed ones: over the month's (lab, day)
    pairs on which the lab was active all day and not closed (the days the nightly job judges, art. 29).

    Missed: a flag of the nightly job for that day, written by the time the month is final and not
    cleared by then (a daily check synced within LATE_SYNC_DAYS clears it; one synced later is
    stored but leaves the miss standing, inspections.daily_checks.clear_missed_check). Checked: a daily check
    finished that day and received by then, on a day not missed: a lab-day is never both, and the
    summary agrees with the lab's own page. Each probe is one short index range (reports.models),
    so the cost follows labs x days.
    """
    days = _days_cte(p)
    M = MissedDailyCheck
    missed = exists().where(
        M.lab_id == Lab.id, M.day == days.c.day, M.flagged_at < p.known_by_utc,
        or_(M.cleared_at.is_(None), M.cleared_at >= p.known_by_utc),
    )
    checked = exists().where(
        Inspection.lab_id == Lab.id, Inspection.level == InspectionLevel.daily,
        Inspection.finished_at >= days.c.start_utc, Inspection.finished_at < days.c.end_utc,
        Inspection.received_at < p.known_by_utc,
    )
    return (
        select(
            *group_columns,
            func.count().label("open_days"),
            func.sum(case((and_(checked, ~missed), 1), else_=0)).label("checked_days"),
            func.sum(case((missed, 1), else_=0)).label("missed"),
        )
        .select_from(Lab)
        .join(days, Lab.created_at < days.c.end_utc)
        .where(_scope(college_id), active_throughout(days.c.start_utc, days.c.end_utc),
               ~_closed_on(Lab.id, days.c.day))
    )


def _top_missed(p: Period, college_id: int | None) -> list[MissedLab]:
    per_lab = _lab_days(p, college_id, Lab.id.label("lab_id")).group_by(Lab.id).subquery("missed_per_lab")
    rows = db.session.execute(
        select(Lab.id, Lab.code, Lab.name, College.code, College.name, per_lab.c.missed)
        .select_from(per_lab)
        .join(Lab, Lab.id == per_lab.c.lab_id)
        .join(College, College.id == Lab.college_id)
        .where(per_lab.c.missed > 0)
        .order_by(per_lab.c.missed.desc(), Lab.code)
        .limit(TOP_N)
    )
    return [MissedLab(*r) for r in rows]


def _oldest_open(p: Period, college_id: int | None) -> list[OpenTicket]:
    """The oldest tickets open at the month's end, each with the level and deadline it had then."""
    T = RectificationTicket
    end = p.as_of_utc
    rows = db.session.execute(
        select(T.id, Lab.id, Lab.code, Lab.name, College.code, College.name, T.article, T.severity,
               level_as_of(end), T.created_at, deadline_as_of(end))
        .select_from(T)
        .join(Lab, Lab.id == T.lab_id)
        .join(College, College.id == Lab.college_id)
        .where(T.created_at < end, or_(T.closed_at.is_(None), T.closed_at >= end),
               active_during(p.start_utc, p.as_of_utc), _scope(college_id))
        .order_by(T.created_at, T.id)
        .limit(TOP_N)
    )
    out = []
    for r in rows:
        out.append(OpenTicket(
            ticket_id=r[0], lab_id=r[1], lab_code=r[2], lab_name=r[3], college_code=r[4], college_name=r[5],
            article=r[6], severity=getattr(r[7], "value", r[7]), level=getattr(r[8], "value", r[8]),
            created_at=r[9], deadline=r[10], age_days=round_half_up((end - r[9]).total_seconds() / 86400, 1),
        ))
    return out


# ---- helpers ----------------------------------------------------------------------------------

def main_article(article: str | None) -> str:
    """'16(2)' -> '16': the chart groups hazards by article (art. 12-24 are the sections)."""
    m = re.match(r"\s*(\d+)", article or "")
    return m.group(1) if m else (article or "?")


def _article_sort_key(a: str):
    return (0, int(a)) if a.isdigit() else (1, a)


def _median(values: list[float]) -> float | None:
    return round_half_up(statistics.median(values), 1) if values else None


def college_by_code(code: str) -> College:
    college = db.session.scalar(select(College).where(College.code == code))
    if college is None:
        raise NotFound(_("No college with the code %(code)s.", code=code))
    return college

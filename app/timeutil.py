"""Time helpers: the database stores UTC; days are counted in the school's time zone."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Naive UTC, the form every DateTime column stores (same on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after (before, n < 0) ``month``'s."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def school_tz(tz_name: str) -> ZoneInfo:
    return ZoneInfo(tz_name)


def school_today(tz_name: str, now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(ZoneInfo(tz_name)).date()


def day_bounds_utc(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) of a school-local day, as naive UTC datetimes."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return to_utc_naive(start), to_utc_naive(end)


def local_day_of(value_utc_naive: datetime, tz_name: str) -> date:
    return value_utc_naive.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name)).date()


def deadline_local(value_utc_naive: datetime, tz_name: str) -> tuple[date, str]:
    """A deadline as the school-local (day, "HH:MM") a reader expects: a deadline at midnight is the end
    of the day before ("2026-10-17", "24:00"), not the start of the next one (escalation deadlines
    count from the end of a day, tickets.escalation.escalate_overdue)."""
    local = value_utc_naive.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name))
    if local.time() == time.min:
        return local.date() - timedelta(days=1), "24:00"
    return local.date(), local.strftime("%H:%M")


def deadline_day(value_utc_naive: datetime, tz_name: str) -> date:
    """The school-local day by whose end (or during which) the deadline falls."""
    return deadline_local(value_utc_naive, tz_name)[0]


def format_deadline(value_utc_naive: datetime, tz_name: str) -> str:
    day, hhmm = deadline_local(value_utc_naive, tz_name)
    return f"{day.isoformat()} {hhmm}"


def round_half_up(value: float, places: int = 1) -> float:
    """Round as a reader checking in Excel does (96.25 -> 96.3), not half to even as round() does.
    The float's shortest decimal form is rounded (0.9625 * 100 is 96.25, not 96.249999...)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def percent(part: int, whole: int, places: int = 1) -> float | None:
    """part / whole in per cent, rounded half up from the exact quotient; None when whole is 0."""
    if not whole:
        return None
    exact = Decimal(part) * 100 / Decimal(whole)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))

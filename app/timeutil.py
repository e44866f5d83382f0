"""Time helpers: the database stores UTC; days are counted in the school's time zone."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Naive UTC, the form every DateTime column stores (same on SQLite and PostgreSQL)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def school_tz(tz_name: str) -> ZoneInfo:
    return ZoneInfo(tz_name)


def school_today(tz_name: str, now: datetime | None = None) -> date:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(ZoneInfo(tz_name)).date()


def day_bounds_utc(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) of a school-local day, as naive UTC datetimes."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return to_utc_naive(start), to_utc_naive(end)


def local_day_of(value_utc_naive: datetime, tz_name: str) -> date:
    return value_utc_naive.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name)).date()

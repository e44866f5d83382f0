"""The school's semesters (art. 27: school-wide checks once or twice a semester): one definition for
the rounds' semester rules (app/rounds/rules.py) and the monthly summary's "school checks this
semester" (app/reports).

``SEMESTERS`` (LABSAFE_SEMESTERS="2026-09-07:2027-01-17,2027-03-01:2027-07-04") gives the teaching
semesters' first and last days. Where it names none (not set, or a day before its first semester),
semesters follow ``REPORT_SEMESTER_START_MONTHS`` (default March and September): each begins on the
first of its month and runs to the day before the next one begins, holidays included.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

DEFAULT_START_MONTHS = (3, 9)


@dataclass(frozen=True, order=True)
class Semester:
    start: date  # school-local, inclusive
    end: date  # school-local, inclusive


class SemesterSettingError(ValueError):
    """LABSAFE_SEMESTERS cannot be read; the message says what to write."""


@lru_cache(maxsize=8)
def parse(text: str) -> tuple[Semester, ...]:
    """``"2026-09-07:2027-01-17,2027-03-01:2027-07-04"`` -> semesters in order; "" -> none."""
    out = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        try:
            first, last = (date.fromisoformat(d.strip()) for d in part.split(":"))
        except ValueError:
            raise SemesterSettingError(
                f"LABSAFE_SEMESTERS: {part!r} is not FIRST:LAST (YYYY-MM-DD:YYYY-MM-DD), e.g. "
                "2026-09-07:2027-01-17,2027-03-01:2027-07-04") from None
        if last < first:
            raise SemesterSettingError(f"LABSAFE_SEMESTERS: {part!r} ends before it begins")
        out.append(Semester(first, last))
    out.sort()
    for a, b in zip(out, out[1:], strict=False):
        if b.start <= a.end:
            raise SemesterSettingError(f"LABSAFE_SEMESTERS: {a.start}:{a.end} and {b.start}:{b.end} overlap")
    return tuple(out)


def configured(config) -> tuple[Semester, ...]:
    return parse(config.get("SEMESTERS") or "")


def _start_months(config) -> list[int]:
    return sorted(config.get("REPORT_SEMESTER_START_MONTHS") or DEFAULT_START_MONTHS)


def _by_months(around: date, config) -> Iterator[Semester]:
    """The start-month semesters from the one before ``around``'s year on, in order."""
    starts = [date(year, m, 1) for year in range(around.year - 1, around.year + 3) for m in _start_months(config)]
    for a, b in zip(starts, starts[1:], strict=False):
        yield Semester(a, b - timedelta(days=1))


def semesters_from(day: date, config) -> Iterator[Semester]:
    """The semesters that end on or after ``day``, in order (the configured ones; the start-month ones
    when none is configured). A configured list ends with its last semester."""
    dated = configured(config)
    source = dated if dated else _by_months(day, config)
    return (s for s in source if s.end >= day)


def semester_start(day: date, config) -> date:
    """The first day of the semester under way on ``day``, or of the last one begun before it (a
    holiday counts with the semester before it): the configured dates, else the start months."""
    begun = [s.start for s in configured(config) if s.start <= day]
    if begun:
        return max(begun)
    return max(s.start for s in _by_months(day, config) if s.start <= day)

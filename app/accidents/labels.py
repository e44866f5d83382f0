"""Names of an accident's grades, states, damage levels and events, in the reader's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

GRADES = {
    "I": _l("Grade I (especially grave)"),
    "II": _l("Grade II (grave)"),
    "III": _l("Grade III (larger)"),
    "IV": _l("Grade IV (general)"),
}
STATES = {
    "reported": _l("Reported, unit report due"),
    "unit_reported": _l("Unit report filed"),
    "investigated": _l("Investigation report filed"),
    "closed": _l("Closed"),
}
ENVIRONMENT = {
    "none": _l("No environmental damage"),
    "local_repairable": _l("Local, repairable"),
    "partly_repairable": _l("Some damage, partly repairable"),
    "severe": _l("Serious, hard to repair"),
}
STABILITY = {
    "none": _l("No harm to stability"),
    "some": _l("Some harm or threat"),
    "larger": _l("Larger harm or threat"),
    "serious": _l("Rather serious harm or threat"),
    "grave": _l("Grave harm or threat"),
}
EVENTS = {
    "reported": _l("Reported"),
    "grade_confirmed": _l("Grade confirmed"),
    "grade_changed": _l("Grade changed"),
    "unit_report_filed": _l("Unit report filed"),
    "investigation_report_filed": _l("Investigation report filed"),
    "closed": _l("Closed"),
}
REPORTS = {
    "unit": _l("Unit's accident report (art. 31)"),
    "investigation": _l("Investigation report (art. 32)"),
}


def grade(value) -> str:
    value = getattr(value, "value", value)
    return str(GRADES.get(value, value or "—"))


def state(value) -> str:
    value = getattr(value, "value", value)
    return str(STATES.get(value, value))


def environment(value) -> str:
    value = getattr(value, "value", value)
    return str(ENVIRONMENT.get(value, value))


def stability(value) -> str:
    value = getattr(value, "value", value)
    return str(STABILITY.get(value, value))


def event(value: str) -> str:
    return str(EVENTS.get(value, value))


def report(value) -> str:
    value = getattr(value, "value", value)
    return str(REPORTS.get(value, value))


# The monthly summary's accident table (app.reports shows it; its words are this domain's).
SUMMARY_TITLE = _l("Lab accidents by grade (art. 33) and the one-vote veto (art. 5)")
SUMMARY_SHEET = _l("Accidents")


def in_year(year: int) -> str:
    return str(_l("Accidents in %(year)s so far", year=year))


def veto_header(year: int) -> str:
    return str(_l("One-vote veto %(year)s (art. 5)", year=year))


def vetoed(flag: bool) -> str:
    return str(_l("Vetoed") if flag else _l("Not vetoed"))

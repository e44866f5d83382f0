"""Human names for a hazard report's states and history, in the reader's language."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import ReportState

STATE_LABELS = {
    ReportState.open: _l("waiting"),
    ReportState.ticketed: _l("ticket opened"),
    ReportState.closed: _l("closed"),
}

EVENT_LABELS = {"reported": _l("Reported"), "ticket_opened": _l("Rectification ticket opened"), "closed": _l("Closed")}


def state_label(state) -> str:
    return str(STATE_LABELS[ReportState(getattr(state, "value", state))])


def event_label(what: str) -> str:
    label = EVENT_LABELS.get(what)
    return str(label) if label is not None else what


def outcome(report) -> str:
    """What became of a report, in a sentence (the reporter's and the receipt's view)."""
    if report.state == ReportState.ticketed:
        return _("A rectification ticket was opened for this hazard; the lab's officers are fixing it.")
    if report.state == ReportState.closed:
        return _("Closed: %(reason)s", reason=report.close_reason)
    return _("Your report reached the lab's safety officers and the college; they will act on it.")

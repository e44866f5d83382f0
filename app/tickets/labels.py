"""How tickets read: state, level, action and history labels, history notes and titles, in the
reader's language (for pages and error messages)."""
from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext

from app.language import N_, pick, translated


def _(message: str, **params) -> str:
    """gettext in a request (the reader's language); the plain English msgid elsewhere (CLI, jobs)."""
    if has_request_context():
        return gettext(message, **params)
    return message % params if params else message


def value_of(x):
    """An enum's stored value; anything else as it is."""
    return getattr(x, "value", x)


# What the system writes in a ticket's history, stored as a key and its facts (TicketEvent.note_key,
# note_params) and translated when read (event_note). Written in English, translated in
# app/tickets/translations.
EVENT_NOTES = {
    "major_at_once": N_("Major hazard: reported to the college at once (art. 29)."),
    "cannot_fix_at_once": N_("The lab cannot fix this hazard for now (art. 29)."),
    "deadline_passed": N_("Deadline passed: escalated by the nightly job (as of the end of %(day)s)."),
    "interim_measures": N_("Interim measures: %(measures)s"),
}


def event_note(note: str, note_key: str | None, note_params: dict | None, locale: str | None = None) -> str:
    """A history entry's note as the reader reads it: what the actor wrote, then what the system
    adds (``note_key``), in ``locale`` (default: the reader's)."""
    message = EVENT_NOTES.get(note_key or "")
    if message is None:
        return note or ""
    added = translated(message, locale, **(note_params or {}))
    return "\n".join(p for p in (note, added) if p)


def reader_title(ticket, locale: str | None = None) -> str:
    """The ticket's title in the reader's language: its checklist item's English text for English readers."""
    return pick(ticket.title, ticket.title_en, locale)


def state_label(state) -> str:
    return {
        "open": _("open"), "fixing": _("being fixed"), "fix_submitted": _("fix submitted"), "closed": _("closed"),
    }.get(value_of(state), value_of(state))


def level_label(level) -> str:
    return {"lab": _("lab"), "college": _("college"), "school": _("school")}.get(value_of(level), value_of(level))


def action_label(action: str) -> str:
    return {
        "start_fix": _("start fixing"), "submit_fix": _("submit fix"), "verify": _("verify and close"),
        "reject": _("reject the fix"), "declare_cannot_fix": _("declare cannot fix"), "escalate": _("escalate"),
    }.get(action, action)


# "created" and every action (lifecycle.ACTIONS, spelled out here: lifecycle sits above this module
# and uses its labels; tests/tickets/test_labels.py holds the two together).
EVENT_KINDS = ("created", "start_fix", "submit_fix", "verify", "reject", "declare_cannot_fix", "escalate")


def event_label(kind: str) -> str:
    """A history entry's kind as the reader reads it: what happened, in their language."""
    return {
        "created": _("Ticket opened"), "start_fix": _("Fixing started"), "submit_fix": _("Fix submitted"),
        "verify": _("Fix verified, ticket closed"), "reject": _("Fix rejected"),
        "declare_cannot_fix": _("Declared that the lab cannot fix it for now"), "escalate": _("Escalated"),
    }.get(kind, kind)

"""Human names for the rounds' codes (kinds, special topics, states) and the change log in words.

What a round's change log stores are facts (``RoundChange.what`` and ``detail``: ids, counts); they are
put into words when read, in the reader's language (docs/ARCHITECTURE.md, "The reader's language")."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.org.labels import CATEGORY_LABELS, HAZARD_LABELS
from app.org.models import LabCategory

from .models import SPECIAL_TOPICS, RoundKind

KIND_LABELS = {
    RoundKind.school_wide: _l("School-wide check"),  # art. 27
    RoundKind.college_monthly: _l("College monthly check"),  # art. 28
    RoundKind.special: _l("Special check"),  # art. 27 专项检查
}

TOPIC_LABELS = {
    "hazchem": _l("Hazardous chemicals"),
    "biosafety": _l("Biosafety"),
    "equipment": _l("Instruments and equipment"),
    "waste": _l("Lab waste"),
    "radiation": _l("Radiation"),
    "controlled_chemicals": _l("Highly toxic, explosive and precursor chemicals"),
    "fire": _l("Fire safety"),
    "utilities": _l("Water and electricity"),
    "premises": _l("Premises and alterations"),
}
assert set(TOPIC_LABELS) == set(SPECIAL_TOPICS)

# A round's lab (services._state) and a round (services.round_summary, STATUS_CLAUSES).
STATE_LABELS = {"done": _l("done"), "pending": _l("pending"), "late": _l("late")}
STATUS_LABELS = {"upcoming": _l("upcoming"), "running": _l("running"), "over": _l("over")}

# How a round's labs were chosen (schemas.LabSelectionSchema ``mode``).
MODE_LABELS = {
    "all": _l("All labs in reach"),
    "college": _l("The labs of a college"),
    "category": _l("A category"),
    "hazard_tag": _l("A hazard tag"),
    "risk_level": _l("Risk grades"),
    "list": _l("Labs picked from a list"),
}


def kind_label(kind, topic: str | None = None) -> str:
    """"专项检查 · 消防安全" / "Special check · Fire safety"."""
    label = str(KIND_LABELS[RoundKind(getattr(kind, "value", kind))])
    return f"{label} · {TOPIC_LABELS[topic]}" if topic in TOPIC_LABELS else label


def selection_words(selection: dict, colleges: dict[int, str]) -> str:
    """How the labs were chosen, in words (a round's facts and its "created" entry)."""
    mode = (selection or {}).get("mode", "all")
    words = str(MODE_LABELS.get(mode, mode))
    if mode == "college":
        return f"{words}: {colleges.get(selection.get('college_id'), selection.get('college_id'))}"
    if mode == "category":
        value = selection.get("category")
        label = next((CATEGORY_LABELS[c] for c in LabCategory if c.value == value), value)
        return f"{words}: {label}"
    if mode == "hazard_tag":
        return f"{words}: {HAZARD_LABELS.get(selection.get('hazard_tag'), selection.get('hazard_tag'))}"
    if mode == "risk_level":
        return f"{words}: {', '.join(selection.get('risk_levels') or [])}"
    if mode == "list":
        return _("Labs picked from a list (%(n)d)", n=len(selection.get("lab_ids") or []))
    return words


def change_lines(what: str, detail: dict, people: dict[int, str], labs: dict[int, str],
                 colleges: dict[int, str]) -> list[str]:
    """A change log entry's details in words: ``people`` and ``labs`` name the ids it holds."""
    def person(user_id):
        return people.get(user_id, f"#{user_id}") if user_id is not None else _("nobody")

    if what == "created":
        lines = [_("%(n)d labs; chosen by: %(how)s", n=detail.get("labs", 0),
                   how=selection_words(detail.get("selection") or {}, colleges))]
        if detail.get("draw_n") is not None:
            lines.append(_("Spot check: %(n)d drawn at random, seed %(seed)s",
                           n=detail["draw_n"], seed=detail.get("seed")))
        inspectors = detail.get("inspectors") or []
        lines.append(_("Inspectors: %(names)s", names=", ".join(person(i) for i in inspectors))
                     if inspectors else _("No inspector chosen"))
        return lines
    if what == "assigned":
        return [_("%(lab)s: %(before)s → %(after)s", lab=labs.get(c.get("lab_id"), f"#{c.get('lab_id')}"),
                  before=person(c.get("from")), after=person(c.get("to")))
                for c in detail.get("changes") or []]
    if what == "late":  # the nightly job's flags (RoundLateFlag rows), grouped by the night
        return [_("Not done when the window ended: %(labs)s",
                  labs=", ".join(labs.get(i, f"#{i}") for i in detail.get("lab_ids") or []))]
    # An entry of a kind this page does not know yet: its facts as they are.
    return [f"{key}: {value}" for key, value in sorted((detail or {}).items())]


WHAT_LABELS = {
    "created": _l("Planned"),
    "assigned": _l("Reassigned"),
    "late": _l("Flagged late"),
}


def what_label(what: str) -> str:
    return str(WHAT_LABELS[what]) if what in WHAT_LABELS else what

"""Human names for the roster's codes (statuses, finding reasons, history kinds, fields), in the reader's language."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "valid": _l("valid"),
    "expired": _l("expired"),
    "revoked": _l("revoked"),
    "no_exam": _l("exam not passed"),
    "no_training": _l("lab training missing"),
    "not_listed": _l("not on the roster"),
}

EVENT_LABELS = {
    "added": _l("added"),
    "changed": _l("changed"),
    "revoked": _l("revoked"),
    "imported": _l("imported"),
    "setting": _l("training requirement"),
}

FIELD_LABELS = {
    "name": _l("Full name"),
    "staff_no": _l("Staff / student number"),
    "email": _l("E-mail"),
    "exam_date": _l("Exam date"),
    "exam_score": _l("Exam score"),
    "exam_passed": _l("Exam passed"),
    "training_date": _l("Lab training date"),
    "valid_until": _l("Valid until"),
    "training_required": _l("Lab requires its own training"),
}


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def _value(value) -> str:
    """A recorded value in words: yes / no, a dash for nothing."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "—" if value is None or value == "" else str(value)


def event_words(event) -> str:
    """A history entry in words: the kind, then each field's before and after (or the import's counts)."""
    kind = str(EVENT_LABELS.get(event.kind, event.kind))
    changes = event.changes or {}
    if event.kind == "imported":
        return _("%(kind)s: %(rows)d rows (%(created)d added, %(updated)d updated)", kind=kind,
                 rows=changes.get("rows", 0), created=len(changes.get("created", [])),
                 updated=len(changes.get("updated", [])))
    if event.kind == "revoked":
        reason = changes.get("reason") or ""
        return f"{kind}: {reason}" if reason else kind
    parts = []
    for field, pair in changes.items():
        if isinstance(pair, list) and len(pair) == 2:
            before, after = (_value(v) for v in pair)
            if event.kind == "added" and after == "—":
                continue  # a field left empty when the person was added
            name = str(FIELD_LABELS.get(field, field))
            parts.append(f"{name}: {after}" if event.kind == "added" else f"{name}: {before} → {after}")
    return f"{kind} · " + "; ".join(parts) if parts else kind

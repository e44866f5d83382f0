"""Human names for the roles (the policy's vocabulary; auth assigns them to users)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "inspector": _l("Inspector"),
    "lab_officer": _l("Lab safety officer"),
    "college_leader": _l("College leader"),
    "college_head": _l("College head"),
    "dept_officer": _l("Department officer"),
    "school_admin": _l("School administrator"),
}


def role_label(value) -> str:
    label = ROLE_LABELS.get(getattr(value, "value", value))
    return str(label) if label is not None else str(value)

"""Which functional department follows a ticket's hazard (art. 9).

The rule is the checklists domain's (``checklists.services.route_hazard``: one rule for checklist
items and for hazards reported by hand); tickets only name the departments they route to.
"""
from __future__ import annotations

from app.checklists.services import department_for, route_hazard

SECURITY = "security"
ASSETS = "assets"
LAB_MANAGEMENT = "lab_management"
DEPARTMENT_CODES = (LAB_MANAGEMENT, SECURITY, ASSETS)


def department_code_for(article: str | None, text: str = "", explicit: str | None = None) -> str:
    """The department code for a hazard reported by hand under ``article`` (e.g. "22(3)"), described by ``text``."""
    return route_hazard(article, text, (), explicit if explicit in DEPARTMENT_CODES else None)


def department_code_for_item(item) -> str:
    """A failed checklist item's department; an explicit one the school has not set up falls back to the rule."""
    code = department_for(item)
    if code in DEPARTMENT_CODES:
        return code
    return department_code_for(getattr(item, "article", None), getattr(item, "text", "") or "")

"""Which functional department follows a hazard, by article (art. 9).

- fire and facilities (art. 22, 23) and the purchase of highly toxic, explosive-precursor and
  drug-precursor chemicals -> security (保卫处);
- water and electricity (art. 21) and building works -> assets (资产与后勤管理处);
- everything else -> lab_management (实验室建设与管理处).

A checklist item may name its department explicitly (``ChecklistItem.department_code``); that wins.
For a checklist item the checklists domain's ``department_for(item)`` is asked first, so the two
domains cannot disagree.
"""
from __future__ import annotations

import re

from app.checklists.services import department_for

SECURITY = "security"
ASSETS = "assets"
LAB_MANAGEMENT = "lab_management"
DEPARTMENT_CODES = (LAB_MANAGEMENT, SECURITY, ASSETS)

_ARTICLE = re.compile(r"^\s*(\d+)")
# Purchase of controlled chemicals (art. 16 items about 购买/采购 of 剧毒/易制爆/易制毒).
_PURCHASE = ("购买", "采购", "purchase", "buy")
_CONTROLLED = ("剧毒", "易制爆", "易制毒", "highly toxic", "explosive precursor", "explosive-precursor", "precursor")
# Building works (装修, 改造, 施工) go to the assets office with water and electricity.
_BUILDING = ("装修", "改造", "施工", "building work", "renovation", "construction")


def article_number(article: str | None) -> int | None:
    m = _ARTICLE.match(article or "")
    return int(m.group(1)) if m else None


def department_code_for(article: str | None, text: str = "", explicit: str | None = None) -> str:
    """The department code for a hazard under ``article`` (e.g. "22(3)") described by ``text``."""
    if explicit in DEPARTMENT_CODES:
        return explicit  # type: ignore[return-value]
    number = article_number(article)
    lowered = (text or "").lower()
    if number in (22, 23):
        return SECURITY
    if number == 21:
        return ASSETS
    if any(w in lowered for w in _PURCHASE) and any(w in lowered for w in _CONTROLLED):
        return SECURITY
    if any(w in lowered for w in _BUILDING):
        return ASSETS
    return LAB_MANAGEMENT


def department_code_for_item(item) -> str:
    """The checklists domain's answer (it owns the item's department), if it names a known department."""
    found = department_for(item)
    code = getattr(found, "code", found)
    if code in DEPARTMENT_CODES:
        return code
    return department_code_for(
        getattr(item, "article", None),
        " ".join(filter(None, [getattr(item, "text", ""), getattr(item, "text_en", "") or ""])),
        getattr(item, "department_code", None),
    )

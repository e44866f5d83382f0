"""Human names for the organisation's codes (categories, hazard tags, unit kinds).

The CSV import also accepts the Chinese names, as universities' spreadsheets use them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import HAZARD_TAGS, CollegeKind, LabCategory

CATEGORY_LABELS = {
    LabCategory.chemistry: _l("Chemistry"),
    LabCategory.biology: _l("Biology"),
    LabCategory.physics: _l("Physics / electrical"),
    LabCategory.mechanical: _l("Mechanical / special equipment"),
    LabCategory.general: _l("General (computer / teaching)"),
}

HAZARD_LABELS = {
    "hazardous_chemicals": _l("Hazardous chemicals"),
    "highly_toxic": _l("Highly toxic chemicals"),
    "precursor": _l("Drug precursors"),
    "explosive_precursor": _l("Explosive precursors"),
    "pathogens": _l("Pathogens"),
    "lab_animals": _l("Lab animals"),
    "special_equipment": _l("Special equipment / pressure vessels"),
    "high_voltage": _l("High voltage"),
    "lasers": _l("Lasers"),
    "radiation": _l("Radiation"),
    "gas_cylinders": _l("Gas cylinders"),
}
assert set(HAZARD_LABELS) == set(HAZARD_TAGS)

KIND_LABELS = {
    CollegeKind.college: _l("College"),
    CollegeKind.key_lab: _l("Key laboratory"),
    CollegeKind.teaching_centre: _l("Teaching centre"),
}

# Spreadsheet spellings accepted by the CSV import (lower-cased English codes always work).
CATEGORY_ALIASES = {
    "化学": "chemistry", "化学类": "chemistry",
    "生物": "biology", "生物类": "biology",
    "物理": "physics", "电学": "physics", "物理/电学": "physics", "物理电学": "physics", "electrical": "physics",
    "机械": "mechanical", "特种设备": "mechanical", "机械/特种设备": "mechanical",
    "综合": "general", "计算机": "general", "教学": "general", "computer": "general", "teaching": "general",
}

HAZARD_ALIASES = {
    "危化品": "hazardous_chemicals", "危险化学品": "hazardous_chemicals",
    "剧毒": "highly_toxic", "剧毒品": "highly_toxic",
    "易制毒": "precursor",
    "易制爆": "explosive_precursor",
    "病原微生物": "pathogens",
    "实验动物": "lab_animals",
    "特种设备": "special_equipment", "压力容器": "special_equipment",
    "高压电": "high_voltage", "高压": "high_voltage",
    "激光": "lasers",
    "辐射": "radiation", "放射源": "radiation", "射线": "radiation",
    "气瓶": "gas_cylinders", "钢瓶": "gas_cylinders",
}


def category_label(value) -> str:
    try:
        return str(CATEGORY_LABELS[LabCategory(getattr(value, "value", value))])
    except (ValueError, KeyError):
        return str(value)


def hazard_label(tag: str) -> str:
    label = HAZARD_LABELS.get(tag)
    return str(label) if label is not None else tag


def kind_label(value) -> str:
    try:
        return str(KIND_LABELS[CollegeKind(getattr(value, "value", value))])
    except (ValueError, KeyError):
        return str(value)


"""Checklist factories: the shipped lists, or a small synthetic list written to a temp dir."""
from __future__ import annotations

import tempfile
from pathlib import Path

from app.checklists import services
from app.checklists.models import ChecklistVersion
from app.extensions import db

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "checklists"

SYNTHETIC_ITEMS = [
    {"id": "exits", "article": "23(1)", "text": "疏散通道畅通", "text_en": "Exits clear", "severity": "major",
     "photo_required": True},
    {"id": "five-doubles", "article": "16(2)", "text": "剧毒品五双", "hazard_tags": ["highly_toxic"],
     "severity": "major"},
    {"id": "biosafety", "article": "19(3)", "text": "病原微生物在相应级别实验室", "categories": ["biology"],
     "hazard_tags": ["pathogens"], "severity": "major"},
    {"id": "tidy", "article": "24(7)", "text": "整洁", "severity": "general"},
]


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):  # weight, stars
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def checklist_toml(*, kind: str = "full", title: str = "测试检查表", title_en: str | None = "Test list",
                   items: list[dict] | None = None) -> str:
    """TOML text for a list (the shipped format); items default to SYNTHETIC_ITEMS."""
    lines = [f"kind = {_toml_value(kind)}", f"title = {_toml_value(title)}"]
    if title_en is not None:
        lines.append(f"title_en = {_toml_value(title_en)}")
    for item in SYNTHETIC_ITEMS if items is None else items:
        lines.append("\n[[items]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


def load_shipped_checklists() -> services.LoadReport:
    """Load the real files under checklists/ (what production serves)."""
    return services.load_directory(SHIPPED_DIR, db.session)


def make_checklist(key: str = "synthetic", directory: Path | str | None = None, **kwargs) -> ChecklistVersion:
    """Write one list as ``<key>.toml`` and load it; returns its current version.

    Other lists already loaded stay in service. Call again with other items to make a new version.
    """
    directory = Path(directory or tempfile.mkdtemp(prefix="labsafe-checklists-"))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{key}.toml").write_text(checklist_toml(**kwargs), encoding="utf-8")
    spec_dir = directory
    # Load just this file: parse the whole directory but keep the others untouched.
    services.load_directory(spec_dir, db.session, retire_missing=False)
    return services.current_version(key)

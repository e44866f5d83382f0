"""The roster speaks Chinese first: every string of app/roster, templates/roster and the lab card's roster
(templates/pwa/_roster.html) has a zh_CN translation (in the roster catalogue or another one)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None}


def _msgids() -> set[str]:
    ids = set()
    for folder, method in ((ROOT / "app/roster", [("**.py", "python")]),
                           (ROOT / "templates/roster", [("**.html", "jinja2")]),
                           (ROOT / "templates/pwa", [("_roster.html", "jinja2")])):
        for _file, _line, msg, _comments, _ctx in extract_from_dir(str(folder), method, keywords=KEYWORDS):
            ids.add(msg if isinstance(msg, str) else msg[0])
    return ids


def test_every_string_is_translated():
    translated = set()
    for po in ROOT.glob("app/**/translations/zh_CN/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            translated |= {m.id for m in read_po(f, locale="zh_CN") if m.id and m.string and "fuzzy" not in m.flags}
    missing = _msgids() - translated
    assert not missing, f"untranslated: {sorted(missing)}"

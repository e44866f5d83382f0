"""Documents are Chinese first: every string of app/documents and templates/documents has a zh_CN
translation (in its own catalogue, or the shared one it reuses)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None}


def test_every_string_is_translated():
    ids = set()
    for folder, method in ((ROOT / "app/documents", [("**.py", "python")]),
                           (ROOT / "templates/documents", [("**.html", "jinja2"), ("**.css", "jinja2")])):
        for _file, _line, msg, _comments, _ctx in extract_from_dir(str(folder), method, keywords=KEYWORDS):
            ids.add(msg if isinstance(msg, str) else msg[0])
    translated = set()
    for po in ROOT.glob("app/**/translations/zh_CN/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            translated |= {m.id for m in read_po(f, locale="zh_CN") if m.id and m.string and "fuzzy" not in m.flags}
    missing = ids - translated
    assert not missing, f"untranslated: {sorted(missing)}"

"""The accidents' pages and documents speak Chinese first: every string of app/accidents, templates/accidents
and the accident report's document has a zh_CN translation (in the accidents catalogue or another one)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from app.notifications.services import ACCIDENT_TITLE, KIND_LABELS

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "N_": None}


def _msgids() -> set[str]:
    ids = set()
    for folder, method in ((ROOT / "app/accidents", [("**.py", "python")]),
                           (ROOT / "templates/accidents", [("**.html", "jinja2")])):
        for _file, _line, msg, _comments, _ctx in extract_from_dir(str(folder), method, keywords=KEYWORDS):
            ids.add(msg if isinstance(msg, str) else msg[0])
    for document in ("templates/documents/accident_report.html", "templates/pwa/accident.html"):
        for _line, msg, _comments, _ctx in extract_from_file("jinja2", str(ROOT / document), keywords=KEYWORDS):
            ids.add(msg if isinstance(msg, str) else msg[0])
    return ids | {ACCIDENT_TITLE, KIND_LABELS["accident_reported"]._args[0],
                  KIND_LABELS["accident_report_due"]._args[0], KIND_LABELS["accident_report_overdue"]._args[0],
                  "Lab accident report (art. 31)", "Lab accident investigation report (art. 32)"}


def _translated() -> set[str]:
    out = set()
    for po in ROOT.glob("app/**/translations/zh_CN/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            out |= {m.id for m in read_po(f, locale="zh_CN") if m.id and m.string and "fuzzy" not in m.flags}
    return out


def test_every_string_is_translated():
    missing = _msgids() - _translated()
    assert not missing, f"untranslated: {sorted(missing)}"

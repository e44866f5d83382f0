"""Checks that a page speaks one language (issue 25's pages): every msgid of some files has a zh_CN
translation, and a page rendered in zh_CN shows no English msgid (a string not wrapped in _() or missing
from the catalogues shows through), one rendered in English no catalogue's Chinese."""
from __future__ import annotations

import functools
import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "N_": None, "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2)}


def msgids(*paths: str) -> set[str]:
    """The msgids of these files (python or jinja2 by suffix)."""
    ids = set()
    for path in paths:
        method = "jinja2" if path.endswith(".html") else "python"
        for _line, msg, _comments, _ctx in extract_from_file(method, str(ROOT / path), keywords=KEYWORDS):
            ids.add(msg if isinstance(msg, str) else msg[0])
    return ids


def untranslated(*patterns: str) -> list[str]:
    """The msgids of the files these glob patterns (from the repository's root) match that no zh_CN
    catalogue translates: a domain's strings may be translated in its own catalogue or another one."""
    files = sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)})
    return sorted(msgids(*files) - set(catalogue()))


@functools.cache
def catalogue() -> dict[str, str]:
    """Every zh_CN catalogue merged: msgid -> msgstr (translated ones only)."""
    out = {}
    for po in ROOT.glob("app/**/translations/zh_CN/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            for m in read_po(f, locale="zh_CN"):
                if m.id and m.string and "fuzzy" not in m.flags:
                    out[m.id if isinstance(m.id, str) else m.id[0]] = (
                        m.string if isinstance(m.string, str) else m.string[0])
    return out


def visible_text(html: str) -> str:
    """What the reader sees (and what a screen reader says): text, titles, placeholders, labels, values of
    buttons; not markup, scripts or styles."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    attributes = " ".join(re.findall(r'(?:placeholder|aria-label|title|alt)="([^"]*)"', html))
    text = re.sub(r"<[^>]+>", " ", html) + " " + attributes
    return re.sub(r"\s+", " ", text.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"'))


def english_left_in(zh_page: str) -> list[str]:
    """English msgids (with a space: a phrase, not a code or a name) that show in a page rendered in zh_CN."""
    text = visible_text(zh_page)
    phrases = [m for m in catalogue() if " " in m.strip() and "%(" not in m and len(m) >= 6]
    return sorted(m for m in phrases if m in text)


def chinese_in(en_page: str) -> list[str]:
    """The catalogues' Chinese (not also in an English msgid, like 企业微信) that shows in an English page."""
    text = visible_text(en_page)
    english = " ".join(catalogue())
    return sorted(s for s in set(catalogue().values())
                  if len(s) >= 4 and "%(" not in s and s in text and s not in english)

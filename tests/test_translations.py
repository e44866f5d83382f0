"""The zh_CN catalogues of all domains are merged into one: a msgid must mean one thing."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_no_msgid_is_translated_two_ways():
    seen: dict[tuple, dict[str, str]] = defaultdict(dict)
    for po in sorted(ROOT.glob("app/**/translations/zh_CN/LC_MESSAGES/messages.po")):
        with po.open("rb") as f:
            for m in read_po(f):
                if m.id and m.string:
                    seen[(m.context, str(m.id))][str(po.relative_to(ROOT))] = str(m.string)
    clashes = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert not clashes, "translated differently in different catalogues:\n" + "\n".join(
        f"{k[1]!r}: {v}" for k, v in clashes.items()
    )

"""The roster speaks Chinese first: every string of app/roster, templates/roster and the lab card's roster
(templates/pwa/_roster.html) has a zh_CN translation (in the roster catalogue or another one)."""
from __future__ import annotations

from tests.translations_check import untranslated


def test_every_string_is_translated():
    missing = untranslated("app/roster/**/*.py", "templates/roster/**/*.html", "templates/pwa/_roster.html")
    assert not missing, f"untranslated: {missing}"

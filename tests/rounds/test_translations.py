"""The rounds pages speak Chinese first: every string of app/rounds and templates/rounds has a zh_CN
translation (in the rounds catalogue or, for a word the app already says, another one)."""
from __future__ import annotations

from tests.translations_check import untranslated


def test_every_string_is_translated():
    missing = untranslated("app/rounds/**/*.py", "templates/rounds/**/*.html")
    assert not missing, f"untranslated: {missing}"

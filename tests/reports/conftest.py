"""Compile the reports catalogue once per run (as `make translations` does; .mo files are not
committed), so tests that read the Chinese pages and exports pass without a prior `make`.

Written to a temporary file then renamed: another test process may be reading the catalogue."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[2] / "app/reports/translations/zh_CN/LC_MESSAGES/messages.po"


@pytest.fixture(scope="session", autouse=True)
def compiled_reports_catalogue():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    with tempfile.NamedTemporaryFile("wb", dir=PO.parent, suffix=".mo.tmp", delete=False) as f:
        write_mo(f, catalog)
    os.replace(f.name, PO.parent / "messages.mo")

"""Cells for every CSV and XLSX the app writes: text a spreadsheet would run as a formula is neutralised.

A lab or college name comes from a person (a form, a CSV import). Written raw, `=HYPERLINK(...)` or
`@SUM(...)` in a downloaded summary becomes a live formula when the file is opened (CSV / formula
injection). As OWASP advises, a text cell starting with = + - @, a tab or a carriage return gets a
single quote in front, which spreadsheets show as text; numbers, and text that is just a number
("-3.5"), stay as they are.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import Cell

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should receive it: None as an empty cell, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> str:
    """Rows as CSV text (CRLF, Excel's dialect); a BOM so Excel opens Chinese text as UTF-8."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return ("\ufeff" if bom else "") + buf.getvalue()


def append_xlsx_row(ws, values: Iterable[Any]) -> None:
    """Append one row to an openpyxl worksheet; every text cell is stored as text, never as a formula."""

    cells = []
    for v in values:
        v = safe_cell(v)
        cell = Cell(ws, value=None if v == "" else v)
        if isinstance(v, str) and v:
            cell.data_type = "s"  # openpyxl would make a str starting with "=" a formula
        cells.append(cell)
    ws.append(cells)

"""Import a lab's roster from the exam system's export (CSV or XLSX), all or nothing.

The file is read whole and every row checked before anything is written: one bad row refuses the
whole file with row-numbered errors (row 1 is the header, as Excel numbers rows), like the labs and
users import (app/org/csv_import.py, whose CSV reader and messages this reuses). An XLSX file's first
sheet is read with openpyxl (the version the project pins, read-only: rows streamed, formulas as their
cached values) and handed to the same checks as CSV text. Rows are upserted by staff number among the
lab's people not revoked: a new person is added, a known one updated when something differs; each
row's change is a RosterEvent, and the import one more (art. 30).

Headers: English names or the exam system's Chinese ones (``ALIASES``).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors import InvalidInput, TooLarge, UnsupportedMedia
from app.extensions import db
from app.org.csv_import import MAX_ROWS, RowErrors, read_csv

from . import services
from .models import RosterEntry

MAX_BYTES = 2 * 1024 * 1024  # an export of a few thousand people is ~200 KB as CSV, more as XLSX
MAX_COLUMNS = 30

REQUIRED = ("name", "staff_no", "exam_date", "exam_score", "exam_passed")
OPTIONAL = ("email", "training_date", "valid_until")
ALIASES = {
    "姓名": "name", "工号": "staff_no", "学号": "staff_no", "学工号": "staff_no", "工号/学号": "staff_no",
    "考试日期": "exam_date", "考试时间": "exam_date", "成绩": "exam_score", "考试成绩": "exam_score",
    "分数": "exam_score", "是否通过": "exam_passed", "考试结果": "exam_passed", "通过": "exam_passed",
    "邮箱": "email", "电子邮箱": "email", "培训日期": "training_date", "有效期至": "valid_until",
    "有效期": "valid_until",
}
_KNOWN = REQUIRED + OPTIONAL + tuple(ALIASES)
_STAFF_NO = re.compile(r"[A-Za-z0-9._-]{1,32}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PASSED = {"通过", "合格", "pass", "passed", "1", "yes", "y", "true", "是"}
_FAILED = {"未通过", "不合格", "fail", "failed", "0", "no", "n", "false", "否"}


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def summary(self) -> str:
        return _("%(created)d added, %(updated)d updated, %(unchanged)d unchanged",
                 created=len(self.created), updated=len(self.updated), unchanged=len(self.unchanged))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def xlsx_text(data: bytes) -> str:
    """The first sheet of an XLSX file as CSV text (dates as YYYY-MM-DD), at most MAX_ROWS rows."""
    from openpyxl import load_workbook  # only an XLSX upload needs it: ~0.2 s to import, not at start-up

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise InvalidInput(_("The file is not a readable XLSX workbook. Save it again from Excel or WPS as .xlsx, "
                             "or as CSV UTF-8.")) from None
    try:
        sheet = book.worksheets[0]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        rows = 0
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            cells = [_cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            rows += 1
            if rows > MAX_ROWS + 1:
                raise InvalidInput(_("At most %(n)d rows per file; split the file.", n=MAX_ROWS))
            writer.writerow(cells)
    finally:
        book.close()
    if rows == 0:
        raise InvalidInput(_("The file is empty."))
    return buf.getvalue()


def _is_xlsx(data: bytes, filename: str | None) -> bool:
    return data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx")


def read_rows(data: bytes, filename: str | None = None) -> list[tuple[int, dict]]:
    """The file's rows as (row number, {column: text}), column names in English."""
    if len(data) > MAX_BYTES:
        raise TooLarge(_("The file is larger than %(mb)d MB; split it.", mb=MAX_BYTES // (1024 * 1024)))
    if (filename or "").lower().endswith(".xls"):
        raise UnsupportedMedia(_("Old .xls files cannot be read; save the file as .xlsx or as CSV UTF-8."))
    text = xlsx_text(data) if _is_xlsx(data, filename) else data
    rows = read_csv(text, (), _KNOWN)
    errors = RowErrors()
    header = {ALIASES.get(k, k) for k in rows[0][1]} if rows else set()
    for name in REQUIRED:
        if name not in header:
            errors.add(1, name, _("the required column is missing."))
    errors.raise_if_any()
    return [(n, {ALIASES.get(k, k): v for k, v in row.items()}) for n, row in rows]


def _date(value: str) -> date:
    value = value.strip().replace("/", "-").replace(".", "-")
    parts = value.split("-")
    if len(parts) != 3:
        raise ValueError(value)
    day = date(int(parts[0]), int(parts[1]), int(parts[2][:2]))
    if not 1990 <= day.year <= 2099:
        raise ValueError(value)  # a typing mistake (and no expiry past year 9999)
    return day


def _passed(value: str) -> bool | None:
    v = value.strip().lower()
    if v in _PASSED:
        return True
    if v in _FAILED:
        return False
    return None


def check_rows(rows: list[tuple[int, dict]], config: dict) -> list[dict]:
    """Each row as the services' data, or every row's errors at once (nothing written)."""
    errors = RowErrors()
    seen: dict[str, int] = {}
    out = []
    for n, row in rows:
        data: dict = {}
        name = row.get("name", "")
        if not name:
            errors.add(n, "name", _("the name is empty."))
        elif len(name) > 100:
            errors.add(n, "name", _("at most %(n)d characters.", n=100))
        data["name"] = name
        staff_no = row.get("staff_no", "")
        if not _STAFF_NO.fullmatch(staff_no):
            errors.add(n, "staff_no", _("a staff or student number is 1 to 32 letters, digits, dots, dashes or "
                                        "underscores."))
        elif staff_no in seen:
            errors.add(n, "staff_no", _("%(staff_no)s appears twice in the file (row %(other)d).",
                                        staff_no=staff_no, other=seen[staff_no]))
        else:
            seen[staff_no] = n
        data["staff_no"] = staff_no
        for column in ("exam_date", "training_date", "valid_until"):
            value = row.get(column, "")
            data[column] = None
            if value:
                try:
                    data[column] = _date(value)
                except ValueError:
                    errors.add(n, column, _("not a date (write it as 2024-09-01)."))
        if not data["exam_date"] and "exam_date" not in [e["column"] for e in errors.items if e["row"] == n]:
            errors.add(n, "exam_date", _("the exam date is empty."))
        score = row.get("exam_score", "")
        data["exam_score"] = None
        if score:
            try:
                data["exam_score"] = round(float(score))
                if not 0 <= data["exam_score"] <= 100:
                    raise ValueError(score)
            except ValueError:
                errors.add(n, "exam_score", _("a score is a number from 0 to 100."))
        passed = _passed(row.get("exam_passed", ""))
        if passed is None:
            errors.add(n, "exam_passed", _("write yes or no (是 / 否, 通过 / 未通过)."))
        data["exam_passed"] = bool(passed)
        email = row.get("email", "")
        if email and (len(email) > 200 or not _EMAIL.fullmatch(email)):
            errors.add(n, "email", _("not an e-mail address."))
        data["email"] = email
        out.append(data)
    errors.raise_if_any()
    return out


def import_roster(user, lab, data: bytes, filename: str | None, config: dict) -> ImportReport:
    """Check the whole file, then add or update each person; one transaction (all or nothing)."""
    people = check_rows(read_rows(data, filename), config)
    report = ImportReport()
    current = {e.staff_no: e for e in db.session.scalars(
        select(RosterEntry).where(RosterEntry.lab_id == lab.id, RosterEntry.revoked_at.is_(None)))}
    try:
        for person in people:
            entry = current.get(person["staff_no"])
            if entry is None:
                services.add_entry(user, lab, person, config, commit=False)
                report.created.append(person["staff_no"])
                continue
            if person["valid_until"] is None:
                person = {**person, "valid_until": services.default_valid_until(person["exam_date"], config)}
            changes = services.apply_changes(entry, person)
            if changes:
                entry.updated_at = services.utcnow()
                services.record_event(lab.id, entry.id, user.id, "changed", changes)
                report.updated.append(person["staff_no"])
            else:
                report.unchanged.append(person["staff_no"])
        services.record_event(lab.id, None, user.id, "imported", {"rows": len(people), **report.as_dict()})
        services.commit_or_conflict()
    except Exception:
        db.session.rollback()
        raise
    return report

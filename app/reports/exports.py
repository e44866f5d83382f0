"""The summary as tables: one list of sections feeds the page, the CSV and the XLSX alike.

Every cell goes out through app.spreadsheet, which keeps names typed by people from running as formulas.

A metric column pairs this month with the month before; the CSV and the XLSX flatten each pair into
two columns headed with the months (e.g. "Labs 2026-10", "Labs 2026-09").
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from app.accidents import labels as accident_labels
from app.accidents.services import GRADES as ACCIDENT_GRADES
from app.spreadsheet import append_xlsx_row, csv_text
from app.timeutil import deadline_day, local_day_of, round_half_up

from .services import GRADES, LEVELS, SEVERITIES, CollegeRow, Figures, MonthlySummary, RoundFigures


@dataclass
class Table:
    key: str
    title: str
    sheet: str  # XLSX sheet name (<= 31 characters)
    headers: list[str]  # fixed columns
    metrics: list[str] = field(default_factory=list)  # paired columns: (this month, previous month)
    rows: list[tuple[list[Any], list[tuple[Any, Any]]]] = field(default_factory=list)

    def flat_headers(self, month: str, previous: str) -> list[str]:
        out = list(self.headers)
        for m in self.metrics:
            out += [f"{m} {month}", f"{m} {previous}"]
        return out

    def flat_rows(self):
        for fixed, pairs in self.rows:
            out = list(fixed)
            for cur, prev in pairs:
                out += [cur, prev]
            yield out


def pct(value: float | None) -> float | None:
    """A fraction in per cent, one decimal, rounded half up (prefer Figures.*_pct, exact from counts)."""
    return None if value is None else round_half_up(100 * value, 1)


def level_label(level: str) -> str:
    return {
        "daily": _("Daily checks"),
        "college": _("College checks"),
        "school": _("School checks"),
        "special": _("Special checks"),
    }.get(level, level)


def grade_label(grade: str) -> str:
    return {
        "A": _("A: pass"),
        "B": _("B: pass after rectification"),
        "C": _("C: re-check on site"),
        "D": _("D: fail"),
    }.get(grade, grade)


def severity_label(severity: str) -> str:
    return {"general": _("General"), "major": _("Major")}.get(severity, severity)


def ticket_level_label(level: str) -> str:
    return {"lab": _("Lab"), "college": _("College"), "school": _("School")}.get(level, level)


def scope_name(row: CollegeRow) -> str:
    return row.name if row.college_id is not None else _("Whole school")


def _scope_rows(s: MonthlySummary) -> list[CollegeRow]:
    return [s.total] + s.colleges if s.college_id is None else list(s.colleges)


def _metric_table(s: MonthlySummary, key: str, title: str, sheet: str,
                  metrics: list[tuple[str, Callable[[Figures], Any]]]) -> Table:
    t = Table(key, title, sheet, [_("Code"), _("College")], [m for m, _f in metrics])
    for row in _scope_rows(s):
        t.rows.append(([row.code, scope_name(row)], [(fn(row.current), fn(row.previous)) for _m, fn in metrics]))
    return t


def tables(s: MonthlySummary, tz_name: str) -> list[Table]:
    out = [
        _metric_table(s, "overview", _("Labs and daily checks (art. 29)"), _("Daily checks"), [
            (_("Labs"), lambda f: f.labs),
            (_("Open lab-days"), lambda f: f.open_days),
            (_("Days with a daily check"), lambda f: f.checked_days),
            (_("Daily-check compliance %"), lambda f: f.compliance_pct),
            (_("Missed checks flagged"), lambda f: f.missed_checks),
        ]),
        _metric_table(s, "inspections", _("Inspections by level (art. 27, 28)"), _("Inspections"), [
            *[(level_label(lv), lambda f, lv=lv: f.inspections.get(lv, 0)) for lv in LEVELS],
        ]),
        _metric_table(s, "grades", _("Inspection grades (college, school and special checks)"), _("Grades"), [
            *[(grade_label(g), lambda f, g=g: f.grades.get(g, 0)) for g in GRADES],
        ]),
        _metric_table(s, "cadence", _("Inspections against the regulation's cadence (art. 27, 28)"), _("Cadence"), [
            (_("Labs with a college check this month"), lambda f: f.labs_with_college_check),
            (_("College-check coverage %"), lambda f: f.college_check_pct),
            (_("Labs with a school check this semester"), lambda f: f.labs_with_school_check_semester),
            (_("School-check coverage %"), lambda f: f.school_check_pct),
        ]),
        _metric_table(s, "hazards_by_severity", _("Hazards found by severity"), _("Hazards by severity"), [
            (_("Hazards found"), lambda f: f.hazards),
            *[(severity_label(sv), lambda f, sv=sv: f.hazards_by_severity.get(sv, 0)) for sv in SEVERITIES],
        ]),
    ]
    by_article = Table("hazards_by_article", _("Hazards found by article"), _("Hazards by article"),
                       [_("Code"), _("College"), _("Article")], [_("Hazards found")])
    for row in _scope_rows(s):
        for art in s.articles:
            cur = row.current.hazards_by_article.get(art, 0)
            prev = row.previous.hazards_by_article.get(art, 0)
            if cur or prev or row.college_id is None or s.college_id is not None:
                by_article.rows.append(([row.code, scope_name(row), _("art. %(n)s", n=art)], [(cur, prev)]))
    out.append(by_article)
    out.append(_metric_table(s, "tickets", _("Rectification (art. 29, 30)"), _("Rectification"), [
        (_("Rectified on time"), lambda f: f.rectified_on_time),
        (_("Rectified late"), lambda f: f.rectified_late),
        (_("Overdue at month end"), lambda f: f.overdue),
        (_("Escalated"), lambda f: f.escalated),
        (_("Still open at month end"), lambda f: f.still_open),
        (_("Median days to rectify"), lambda f: f.median_days_to_rectify),
    ]))
    missed = Table("top_missed", _("Labs with the most missed daily checks"), _("Most missed checks"),
                   [_("Lab code"), _("Lab"), _("College"), _("Missed checks flagged")])
    for m in s.top_missed:
        missed.rows.append(([m.lab_code, m.lab_name, m.college_name, m.missed], []))
    out.append(missed)
    oldest = Table("oldest_open", _("Oldest open tickets"), _("Oldest open tickets"),
                   [_("Ticket"), _("Lab code"), _("Lab"), _("College"), _("Article"), _("Severity"), _("Level"),
                    _("Created"), _("Deadline (by the end of the day)"), _("Age (days)")])
    for t in s.oldest_open:
        oldest.rows.append(([
            t.ticket_id, t.lab_code, t.lab_name, t.college_name, t.article, severity_label(t.severity),
            ticket_level_label(t.level), local_day_of(t.created_at, tz_name).isoformat(),
            deadline_day(t.deadline, tz_name).isoformat(), t.age_days,
        ], []))
    out.append(oldest)
    out.append(accident_table(s))  # app.accidents: art. 33 grades, art. 5 veto
    return out


# ---- rounds (issue 22): planned / done / late per round and per college, month over month -------------

def round_kind_label(kind: str) -> str:
    return {
        "school_wide": _("School-wide round"),
        "college_monthly": _("College monthly round"),
        "special": _("Special round"),
    }.get(kind, kind)


def round_status_label(status: str) -> str:
    return {"upcoming": _("Not started"), "running": _("In its window"), "over": _("Window over")}.get(status, status)


def round_owner(r: dict, f: RoundFigures) -> str:
    if r["owner_college_id"] is None:
        return _("School")
    names = {c.college_id: c.name for c in f.colleges}
    return names.get(r["owner_college_id"], "")


def round_scopes(f: RoundFigures) -> list[tuple[str, str, dict]]:
    """(code, name, month -> Tally) rows of the per-college table: the school's total first (school scope)."""
    rows = [(c.code, c.name, c.months) for c in f.colleges]
    return rows if f.college_id is not None else [("", _("Whole school"), f.total)] + rows


def round_tables(s: MonthlySummary) -> list[Table]:
    """The summary's rounds as two tables for the exports (the page draws them from the same figures)."""
    f = s.rounds
    if f is None:
        return []
    month = s.month.strftime("%Y-%m")
    listing = Table("rounds", _("Rounds ending in %(month)s (art. 26-28)", month=month), _("Rounds"),
                    [_("Round"), _("Title"), _("Kind"), _("Planned by"), _("Window from"), _("Window to"),
                     _("Labs planned"), _("Labs done"), _("Labs late"), _("Status")])
    for r in f.of_month(s.month):
        listing.rows.append(([r["id"], r["title"], round_kind_label(r["kind"]), round_owner(r, f),
                              r["window_from"].isoformat(), r["window_to"].isoformat(), r["planned"], r["done"],
                              r["late"], round_status_label(r["status"])], []))
    headers = [_("Code"), _("College")]
    for m in f.months:
        label = m.strftime("%Y-%m")
        headers += [f"{_('Labs planned')} {label}", f"{_('Labs done')} {label}", f"{_('Labs late')} {label}"]
    by_college = Table("rounds_by_college", _("Round labs by college, month over month"), _("Rounds by college"),
                       headers)
    for code, name, months in round_scopes(f):
        cells = [code, name]
        for m in f.months:
            cells += [months[m].planned, months[m].done, months[m].late]
        by_college.rows.append((cells, []))
    return [listing, by_college]


def accident_table(s: MonthlySummary) -> Table:
    """Accidents in the month by grade (art. 33) and the year's one-vote veto (art. 5), per college."""
    year = s.month.year
    t = Table("accidents", str(accident_labels.SUMMARY_TITLE), str(accident_labels.SUMMARY_SHEET),
              [_("Code"), _("College"), *[accident_labels.grade(g) for g in ACCIDENT_GRADES],
               accident_labels.in_year(year), accident_labels.veto_header(year)])
    for row in _scope_rows(s):
        if row.college_id is None:
            counts = {g: sum(c.get(g, 0) for c in s.accidents.values()) for g in ACCIDENT_GRADES}
            in_year = sum(s.accident_veto.values())
            veto = len(s.accident_veto)
        else:
            counts = s.accidents.get(row.college_id, {})
            in_year = s.accident_veto.get(row.college_id, 0)
            veto = accident_labels.vetoed(bool(in_year))
        t.rows.append(([row.code, scope_name(row), *[counts.get(g, 0) for g in ACCIDENT_GRADES], in_year, veto], []))
    return t


def export_tables(s: MonthlySummary, tz_name: str) -> list[Table]:
    return tables(s, tz_name) + round_tables(s)


def status_note(s: MonthlySummary) -> str | None:
    """Whether the figures may still change: the month is running, or late daily checks may still sync."""
    if not s.complete:
        return _("This month is not over: figures so far.")
    if not s.final:
        return _("Daily checks may still arrive up to %(n)d days late: these figures may change until "
                 "%(day)s, when the month is final.", n=s.late_sync_days, day=s.final_from.isoformat())
    return None


def definitions(s: MonthlySummary, tz_name: str) -> list[str]:
    """How each figure is counted, for the page and both exports (the reader's language)."""
    return [
        _("Months run on school time (%(tz)s). Each month is counted as it stood at its end: tickets with the "
          "deadline and level they had then (from their history, art. 30), labs as they were active then.",
          tz=tz_name),
        _("Labs: labs active at some time in the month. A lab deactivated later still counts in the months it "
          "was active; a lab counts in no figure of a month in which it was never active."),
        _("Open lab-days: days on which a lab was active all day and not closed, the days a daily check is owed "
          "(art. 29). Daily-check compliance: open lab-days with at least one daily check, divided by open "
          "lab-days. Missed checks: open lab-days the nightly job flagged and on which no daily check arrived; "
          "a lab-day is never both checked and missed."),
        _("Daily checks count when they reach the server within %(n)d days after the month's end (phones that "
          "were offline sync late); after that the month is final and its figures no longer change.",
          n=s.late_sync_days),
        _("College checks: labs with at least one college check in the month, against one a month per lab "
          "(art. 28). School checks: labs with at least one school check since the semester began on %(day)s, "
          "against 1–2 a semester (art. 27).", day=s.semester_start.isoformat()),
        _("Grades: college, school and special inspections finished in the month, by the grade given at submit "
          "from their score (A pass, B pass after rectification, C re-check on site, D fail; a failed red-line "
          "item is always D). Daily checks are scored but not counted here."),
        _("Hazards found: rectification tickets opened in the month, one per failed checklist item."),
        _("Rectified on time / late: tickets verified closed in the month by / after their deadline (the one in "
          "force when they were closed)."),
        _("Overdue at month end: tickets (not events) not closed at the end of the month whose deadline then had "
          "passed, including fixes submitted and waiting for verification. Still open: tickets not closed at the "
          "end of the month, in any state."),
        _("Escalated: tickets (not events) raised at least one level during the month, by the nightly job or by "
          "hand; a ticket raised twice counts once."),
        _("Deadlines are shown as the day by whose end the fix is due; a deadline at midnight is the end of the "
          "day before (24:00)."),
        _("Percentages have one decimal, rounded half up (96.25 → 96.3). Median days to rectify: from opening to "
          "verified closing, for tickets closed in the month."),
        *round_definitions(),
    ]


def round_definitions() -> list[str]:
    """How the rounds' figures are counted (the summary, its exports and the rounds' partial)."""
    return [
        _("Rounds: a round belongs to the month its window ends in. Its labs are planned; a lab is done by the "
          "first inspection at the round's level, with its checklist, by an inspector assigned in the round, "
          "finished inside the window, even if the phone synced it later (so these figures can change after the "
          "month is final); late: not done and the window is over. A lab counts for its own college, a "
          "school-wide round's labs each for theirs; a college sees only its own labs. An unannounced round "
          "(spot check, art. 28) is counted from its first day."),
    ]


def _months(s: MonthlySummary) -> tuple[str, str]:
    return s.month.strftime("%Y-%m"), s.previous_month.strftime("%Y-%m")


def _title(s: MonthlySummary) -> str:
    scope = s.colleges[0].name if s.college_id is not None and s.colleges else _("Whole school")
    return _("Monthly lab safety summary %(month)s — %(scope)s", month=s.month.strftime("%Y-%m"), scope=scope)


def to_csv(s: MonthlySummary, tz_name: str) -> str:
    """One CSV, section after section (a title row, a header row, the rows, a blank line)."""
    month, previous = _months(s)
    rows: list[list[Any]] = [[_title(s)]]
    note = status_note(s)
    if note:
        rows.append([note])
    rows.append([])
    for t in export_tables(s, tz_name):
        rows.append([t.title])
        rows.append(t.flat_headers(month, previous))
        rows.extend(t.flat_rows())
        rows.append([])
    rows.append([_("How the figures are counted")])
    rows.extend([line] for line in definitions(s, tz_name))
    return csv_text(rows)


def to_xlsx(s: MonthlySummary, tz_name: str) -> bytes:
    """A workbook with one sheet per section."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    month, previous = _months(s)
    used: set[str] = set()
    for t in export_tables(s, tz_name):
        name = "".join(c for c in t.sheet if c not in '[]:*?/\\')[:31] or t.key
        while name in used:
            name = name[:28] + f"_{len(used)}"
        used.add(name)
        ws = wb.create_sheet(name)
        append_xlsx_row(ws, [t.title])
        ws["A1"].font = Font(bold=True)
        append_xlsx_row(ws, t.flat_headers(month, previous))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for r in t.flat_rows():
            append_xlsx_row(ws, r)
        ws.freeze_panes = "A3"
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in list(col)[1:]) if ws.max_row > 1 else 10
            ws.column_dimensions[col[0].column_letter].width = min(max(10, width * 1.6), 40)
    info = wb.create_sheet(_("About"), 0)
    append_xlsx_row(info, [_title(s)])
    info["A1"].font = Font(bold=True)
    append_xlsx_row(info, [_("Month"), month])
    append_xlsx_row(info, [_("Previous month"), previous])
    append_xlsx_row(info, [_("Complete month"), _("yes") if s.complete else _("no (figures so far)")])
    append_xlsx_row(
        info, [_("Final"), _("yes") if s.final else _("no: may change until %(day)s", day=s.final_from.isoformat())]
    )
    append_xlsx_row(info, [])
    append_xlsx_row(info, [_("How the figures are counted")])
    info.cell(row=info.max_row, column=1).font = Font(bold=True)
    for line in definitions(s, tz_name):
        append_xlsx_row(info, [line])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

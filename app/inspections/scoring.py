"""An inspection's score (0-100) and grade (A-D), from its answers and its checklist version (issue 22).

The one place scores and grades are worked out: the submit calls ``score_answers`` before it inserts
the inspection, and ``rescore`` (``flask inspections rescore``) works out stored inspections again.
It lives in inspections, not in checklists, because a score is a fact about an inspection: computed
from its answers, stored on its row in the submit's transaction, read by its pages and API. The
checklists domain owns the settings it reads (each item's weight, red line and stars, per version)
and may not import inspections (pyproject.toml's layers), so it could not store the result anyway.
Reports read the stored grade; nothing else computes one.

Rules (checklists/README.md "Scores and grades"; bands in config.GRADE_BANDS):
- score = sum of the weights of the items passed / sum of the weights of the items answered pass or
  fail x 100, one decimal; N/A leaves the denominator; nothing answered pass or fail: no score, no grade;
- a failed red-line item (``must_pass``) grades D whatever the score (一票否决);
- a failed major item (重大隐患, art. 29) keeps the inspection out of A: at best B, pass after rectification;
- otherwise the first band whose threshold the score reaches (A pass, B pass after rectification,
  C re-check on site); below the last band, D fail.

Weights are read from the inspection's own checklist version, never the current one: versions are
immutable, so re-scoring an old inspection gives the grade its own list's settings give.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, update

from app.checklists import services as checklists
from app.extensions import db

from .models import AnswerResult, Inspection, InspectionAnswer

GRADES = ("A", "B", "C", "D")
FAIL_GRADE = "D"
DEFAULT_BANDS = (("A", 90.0), ("B", 75.0), ("C", 60.0))
# By value; a str-mixin member hashes and compares as its value, so members find themselves too.
_RESULTS = {r.value: r for r in AnswerResult}


@dataclass(frozen=True)
class Score:
    score: float | None  # 0-100, one decimal; None: nothing scorable
    grade: str | None  # A-D; None with no score
    red_line_failed: bool = False


def bands(config: Mapping[str, Any] | None) -> tuple[tuple[str, float], ...]:
    """The configured bands, best first, checked: grades from A in order, thresholds falling."""
    value = tuple((str(g), float(t)) for g, t in ((config or {}).get("GRADE_BANDS") or DEFAULT_BANDS))
    grades = [g for g, _t in value]
    thresholds = [t for _g, t in value]
    if grades != list(GRADES[: len(grades)]) or not value or len(value) >= len(GRADES):
        raise ValueError(f"GRADE_BANDS must name A, then B, ... before D, best first: {value!r}")
    if thresholds != sorted(thresholds, reverse=True) or not all(0 <= t <= 100 for t in thresholds):
        raise ValueError(f"GRADE_BANDS thresholds must fall from band to band, within 0-100: {value!r}")
    return value


def _one_decimal(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def score_answers(items: Mapping[int, Any], answers: Iterable[tuple[int, Any]],
                  config: Mapping[str, Any] | None) -> Score:
    """Score and grade answers given as (item id, result) against ``items`` (by id: the version's
    ChecklistItem or ItemSnapshot, read for weight, must_pass and severity)."""
    passed = answered = 0
    red_line = major = False
    for item_id, result in answers:
        result = _RESULTS.get(result) or AnswerResult(result)
        if result is AnswerResult.not_applicable:
            continue
        item = items[item_id]
        weight = int(item.weight or 1)
        answered += weight
        if result is AnswerResult.passed:
            passed += weight
        else:
            red_line = red_line or bool(item.must_pass)
            major = major or getattr(item.severity, "value", item.severity) == "major"
    if not answered:
        return Score(None, None)
    score = _one_decimal(100 * passed / answered)
    return Score(score, grade_for(score, red_line_failed=red_line, major_failed=major, config=config), red_line)


def grade_for(score: float, *, red_line_failed: bool, major_failed: bool, config: Mapping[str, Any] | None) -> str:
    if red_line_failed:
        return FAIL_GRADE
    for grade, threshold in bands(config):
        if score >= threshold and not (grade == "A" and major_failed):
            return grade
    return FAIL_GRADE


# ---- scoring stored inspections again ------------------------------------------------------------

@dataclass
class RescoreReport:
    seen: int = 0
    changed: int = 0


def rescore(config: Mapping[str, Any], *, only_unscored: bool = False, inspection_ids: Sequence[int] | None = None,
            batch_size: int = 500) -> RescoreReport:
    """Score stored inspections again, each with its own checklist version (its items' weights and red
    lines as that version stored them) and the current bands; commits per batch. ``only_unscored``:
    only those with no grade yet (stored before scoring existed). Returns how many changed."""
    report = RescoreReport()
    query = select(Inspection.id, Inspection.checklist_version_id, Inspection.score, Inspection.grade)
    if only_unscored:
        query = query.where(Inspection.grade.is_(None))
    if inspection_ids is not None:
        query = query.where(Inspection.id.in_(list(inspection_ids)))
    last_id = 0
    while True:
        rows = db.session.execute(query.where(Inspection.id > last_id).order_by(Inspection.id).limit(batch_size)).all()
        if not rows:
            break
        last_id = rows[-1].id
        answers: dict[int, list[tuple[int, str]]] = {r.id: [] for r in rows}
        for inspection_id, item_id, result in db.session.execute(
            select(InspectionAnswer.inspection_id, InspectionAnswer.item_id, InspectionAnswer.result)
            .where(InspectionAnswer.inspection_id.in_(list(answers)))
        ):
            answers[inspection_id].append((item_id, result))
        for row in rows:
            report.seen += 1
            version = checklists.version_snapshot(row.checklist_version_id)  # its own version, cached
            result = score_answers(version.by_id, answers[row.id], config)
            if (result.score, result.grade) != (row.score, row.grade):
                db.session.execute(
                    update(Inspection).where(Inspection.id == row.id).values(score=result.score, grade=result.grade)
                )
                report.changed += 1
        db.session.commit()
    return report

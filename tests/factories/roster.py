"""Roster rows (准入, art. 13) through the service, as an officer would add them."""
from __future__ import annotations

from datetime import date

from flask import current_app

from app.roster import services


def make_entry(lab, *, user=None, name: str = "张三", staff_no: str = "20230001", exam_passed: bool = True,
               exam_date: date | None = date(2025, 9, 1), exam_score: int | None = 90, valid_until: date | None = None,
               training_date: date | None = None, email: str = ""):
    data = {"name": name, "staff_no": staff_no, "email": email, "exam_date": exam_date, "exam_score": exam_score,
            "exam_passed": exam_passed, "training_date": training_date, "valid_until": valid_until}
    return services.add_entry(user, lab, data, current_app.config)

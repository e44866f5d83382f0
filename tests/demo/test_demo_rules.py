"""The demo's recurring round rules: made once, their rounds due now planned once (make run shows them)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.demo import data as demo
from app.extensions import db
from app.rounds.models import InspectionRound, Recurrence, RoundRule
from tests.factories import load_shipped_checklists


def test_demo_rules_are_made_once_and_plan_their_rounds_once(app):
    load_shipped_checklists()
    first = demo.load()
    assert first.counts["round rules"] == (3, 0, 0) and first.counts["rounds planned"][0] >= 3
    made = {(r.recurrence, r.owner_college_id is None) for r in db.session.scalars(select(RoundRule))}
    assert {(Recurrence.monthly, False), (Recurrence.semester, True), (Recurrence.by_risk, False)} == made
    rounds = db.session.scalar(select(func.count()).select_from(InspectionRound))
    again = demo.load()
    assert again.counts["round rules"] == (0, 0, 3) and again.counts["rounds planned"] == (0, 0, 0)
    assert again.changed is False
    assert db.session.scalar(select(func.count()).select_from(InspectionRound)) == rounds

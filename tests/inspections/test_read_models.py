"""The rows the submit hands on (InspectionRow, AnswerRow) read like Inspection and InspectionAnswer:
every column, by the same name and type."""
from __future__ import annotations

from sqlalchemy import inspect

from app.inspections.models import AnswerRow, Inspection, InspectionAnswer, InspectionRow
from tests.read_models import assert_reads_like


def test_row_read_models_are_the_whole_rows_of_their_models():
    for read_model, model in ((InspectionRow, Inspection), (AnswerRow, InspectionAnswer)):
        # Every column, not just some: the submit builds them from the very values it inserts.
        assert set(assert_reads_like(read_model, model)) == set(inspect(model).columns.keys())

"""The submission's answers load directly when plainly well formed (InspectionAnswerList); the
result, and for anything else the errors, must be exactly those of the nested schema."""
from __future__ import annotations

import uuid

import pytest
from marshmallow import ValidationError, fields, validate

from app.inspections.schemas import (
    NOTE_MAX,
    PHOTOS_MAX,
    InspectionAnswerInSchema,
    InspectionInSchema,
    _plain_answer,
)


class NestedOnly(InspectionInSchema):
    """The contract as it was declared before the direct path: every answer through the nested schema."""

    answers = fields.List(fields.Nested(InspectionAnswerInSchema), required=True,
                          validate=validate.Length(min=1, max=500))


U1, U2 = str(uuid.uuid4()), str(uuid.uuid4())

WELL_FORMED = [
    {"item_id": 1, "result": "pass"},
    {"item_id": 2**31 - 1, "result": "fail", "note": "灭火器过期", "photos": [U1, U2]},
    {"item_id": 7, "result": "na", "note": "", "photos": []},
    {"item_id": 8, "result": "fail", "note": "x" * NOTE_MAX, "photos": [str(uuid.uuid4()) for _ in range(PHOTOS_MAX)]},
    {"item_id": 9, "result": "pass", "photos": [U1.upper()]},  # uuid.UUID reads any case
    {"item_id": 10, "result": "pass", "photos": ["{" + U1 + "}"]},  # and braces, like the schema
    {"item_id": 11, "result": "pass", "photos": [U1.replace("-", "")]},
]

ODD = [
    {"item_id": True, "result": "pass"},
    {"item_id": 0, "result": "pass"},
    {"item_id": 2**31, "result": "pass"},
    {"item_id": 1.0, "result": "pass"},
    {"item_id": "1", "result": "pass"},
    {"item_id": None, "result": "pass"},
    {"result": "pass"},
    {"item_id": 1},
    {"item_id": 1, "result": "PASS"},
    {"item_id": 1, "result": None},
    {"item_id": 1, "result": ["pass"]},
    {"item_id": 1, "result": {"pass": 1}},
    {"item_id": 1, "result": "pass", "note": None},
    {"item_id": 1, "result": "pass", "note": 5},
    {"item_id": 1, "result": "pass", "note": "x" * (NOTE_MAX + 1)},
    {"item_id": 1, "result": "pass", "note": "a\x00b"},
    {"item_id": 1, "result": "pass", "photos": None},
    {"item_id": 1, "result": "pass", "photos": U1},
    {"item_id": 1, "result": "pass", "photos": [1]},
    {"item_id": 1, "result": "pass", "photos": [None]},
    {"item_id": 1, "result": "pass", "photos": ["not-a-uuid"]},
    {"item_id": 1, "result": "pass", "photos": [U1, U1]},
    {"item_id": 1, "result": "pass", "photos": [U1, U1.upper()]},  # the same photo twice
    {"item_id": 1, "result": "pass", "photos": [str(uuid.uuid4()) for _ in range(PHOTOS_MAX + 1)]},
    {"item_id": 1, "result": "pass", "extra": 1},
    {},
    [],
    None,
    "pass",
    7,
]


def _load(schema, answers):
    payload = {
        "uuid": U1, "lab_id": 1, "checklist_version_id": 1, "level": "college",
        "started_at": "2026-11-20T10:00:00Z", "finished_at": "2026-11-20T10:20:00+08:00", "answers": answers,
    }
    try:
        return "ok", schema.load(payload)
    except ValidationError as err:
        return "error", err.messages


@pytest.mark.parametrize("answer", WELL_FORMED)
def test_well_formed_answers_take_the_direct_path_with_the_schema_s_result(answer):
    assert _plain_answer(answer) is not None
    assert _plain_answer(answer) == InspectionAnswerInSchema().load(answer)


@pytest.mark.parametrize("answer", ODD)
def test_anything_else_goes_through_the_schema(answer):
    assert _plain_answer(answer) is None


@pytest.mark.parametrize(
    "answers",
    [WELL_FORMED, WELL_FORMED[::-1], [], None, "x", {"0": WELL_FORMED[0]}, [WELL_FORMED[0]] * 501]
    + [[*WELL_FORMED, odd] for odd in ODD]
    + [[odd, *WELL_FORMED] for odd in ODD],
)
def test_the_submission_loads_or_fails_exactly_as_with_the_nested_schema(answers):
    assert _load(InspectionInSchema(), answers) == _load(NestedOnly(), answers)

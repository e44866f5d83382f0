"""Round JSON shapes (contract: /api/rounds, /api/me/rounds)."""
from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.jsonio import UtcDateTime
from app.org.closures import DAYS
from app.org.models import HAZARD_TAGS, RiskLevel

from .models import SPECIAL_TOPICS, Recurrence, RoundKind

ID = validate.Range(min=1, max=2**31 - 1)


class LabSelectionSchema(Schema):
    mode = fields.String(load_default="all",
                         validate=validate.OneOf(("all", "college", "category", "hazard_tag", "risk_level", "list")))
    college_id = fields.Integer(strict=True, validate=ID)
    category = fields.String()
    hazard_tag = fields.String(validate=validate.OneOf(HAZARD_TAGS))
    risk_levels = fields.List(fields.String(validate=validate.OneOf([r.value for r in RiskLevel])),
                              validate=validate.Length(min=1, max=4),
                              metadata={"description": "mode risk_level: the grades I-IV (MOE 2024 measures) to plan"})
    lab_ids = fields.List(fields.Integer(strict=True, validate=ID), validate=validate.Length(max=20_000))

    @validates_schema
    def _needs(self, data, **kwargs):
        needed = {"college": "college_id", "category": "category", "hazard_tag": "hazard_tag",
                  "risk_level": "risk_levels", "list": "lab_ids"}
        field = needed.get(data.get("mode", "all"))
        if field and not data.get(field):
            raise ValidationError(_("Missing data for required field."), field)


class AssignmentSchema(Schema):
    lab_id = fields.Integer(required=True, strict=True, validate=ID)
    inspector_id = fields.Integer(required=True, allow_none=True, strict=True, validate=ID)


class RoundInSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.Enum(RoundKind, by_value=True, required=True)
    topic = fields.String(allow_none=True, validate=validate.OneOf(tuple(SPECIAL_TOPICS)),
                          metadata={"description": "special rounds: " + ", ".join(SPECIAL_TOPICS)})
    checklist_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # Dates the school's calendar can hold (a year 9999 window would overflow when turned into UTC).
    window_from = fields.Date(required=True, validate=DAYS, metadata={"description": "school-local date, inclusive"})
    window_to = fields.Date(required=True, validate=DAYS, metadata={"description": "school-local date, inclusive"})
    owner_college_id = fields.Integer(allow_none=True, strict=True, validate=ID,
                                      metadata={"description": "a college's round; none: the school's"})
    unannounced = fields.Boolean(load_default=False)
    labs = fields.Nested(LabSelectionSchema, load_default=lambda: {"mode": "all"})
    spot_check = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=20_000),
                                metadata={"description": "draw this many labs at random from the selection (抽查)"})
    seed = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=2**31 - 1))
    inspector_ids = fields.List(fields.Integer(strict=True, validate=ID), load_default=list,
                                validate=validate.Length(max=500))
    assign = fields.String(load_default="even", validate=validate.OneOf(("even", "hand")))
    assignments = fields.List(fields.Nested(AssignmentSchema), load_default=list, validate=validate.Length(max=20_000))


class AssignmentsInSchema(Schema):
    assignments = fields.List(fields.Nested(AssignmentSchema), required=True,
                              validate=validate.Length(min=1, max=20_000))


class RoundSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.String()
    topic = fields.String(allow_none=True)
    checklist_key = fields.String()
    window_from = fields.Date()
    window_to = fields.Date()
    owner_college_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    unannounced = fields.Boolean()
    seed = fields.Integer(allow_none=True)
    draw_n = fields.Integer(allow_none=True)
    planned = fields.Integer()
    done = fields.Integer()
    late = fields.Integer()
    status = fields.String(metadata={"description": "upcoming, running, over"})


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)


class RoundLabSchema(Schema):
    lab_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    building = fields.String()
    floor = fields.String()
    room = fields.String()
    qr_token = fields.String()
    inspector = fields.Nested(PersonSchema, allow_none=True)
    state = fields.String(metadata={"description": "done, pending, late"})
    inspection_id = fields.Integer(allow_none=True, metadata={"description": "the first qualifying inspection"})
    done_by = fields.Nested(PersonSchema, allow_none=True)
    finished_at = UtcDateTime(allow_none=True)


class RoundLabsSchema(Schema):
    round = fields.Nested(RoundSchema)
    labs = fields.List(fields.Nested(RoundLabSchema))


class WorkRoundSchema(RoundSchema):
    level = fields.String()
    checklist_version_id = fields.Integer(allow_none=True)
    labs = fields.List(fields.Nested(RoundLabSchema), metadata={"description": "my labs still to do"})


class DrawSchema(Schema):
    seed = fields.Integer()
    n = fields.Integer()
    population = fields.List(fields.Integer())
    labs = fields.List(fields.Integer())
    redone = fields.List(fields.Integer())
    matches = fields.Boolean()
    method = fields.String()


class AssignedSchema(Schema):
    changed = fields.Integer()


# ---- recurring round rules (/api/round-rules; app/rounds/rules.py) --------------------------------

class RuleInSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=160),
                          metadata={"description": "each round's title is this and its period, e.g. “… · 2026-12”"})
    kind = fields.Enum(RoundKind, by_value=True, required=True)
    topic = fields.String(allow_none=True, validate=validate.OneOf(tuple(SPECIAL_TOPICS)),
                          metadata={"description": "special rules: " + ", ".join(SPECIAL_TOPICS)})
    owner_college_id = fields.Integer(allow_none=True, strict=True, validate=ID,
                                      metadata={"description": "a college's rule; none: the school's"})
    checklist_key = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=64),
                                  metadata={"description": "none: by risk grade, each grade's list (org.risk)"})
    labs = fields.Nested(LabSelectionSchema, load_default=lambda: {"mode": "all"})
    inspector_ids = fields.List(fields.Integer(strict=True, validate=ID), load_default=list,
                                validate=validate.Length(max=500),
                                metadata={"description": "spread evenly over each round's labs"})
    recurrence = fields.Enum(Recurrence, by_value=True, required=True,
                             metadata={"description": "monthly (calendar months), semester (LABSAFE_SEMESTERS), "
                                                      "by_risk (each lab by its grade: I weekly, II fortnightly, "
                                                      "III/IV monthly; a college monthly rule)"})
    lead_days = fields.Integer(load_default=7, strict=True, validate=validate.Range(min=0, max=60),
                               metadata={"description": "a period's round is planned this many days before it"})


class RuleChangeSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=160))
    paused = fields.Boolean()
    inspector_ids = fields.List(fields.Integer(strict=True, validate=ID), validate=validate.Length(max=500),
                                metadata={"description": "for the rounds planned from now on"})

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError(_("Say what to change: title, paused or inspector_ids."), "_schema")


class NextPeriodSchema(Schema):
    cadence = fields.String(metadata={"description": "weekly, fortnightly, monthly, semester"})
    start = fields.Date()
    end = fields.Date()
    label = fields.String()
    plan_on = fields.Date(metadata={"description": "the day its round is planned by (by the nightly job)"})


class RuleSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.String()
    topic = fields.String(allow_none=True)
    owner_college_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    checklist_key = fields.String(allow_none=True)
    labs = fields.Dict()
    inspector_ids = fields.List(fields.Integer())
    recurrence = fields.String()
    lead_days = fields.Integer()
    paused = fields.Boolean()
    created_by_id = fields.Integer()
    created_at = UtcDateTime()
    rounds_planned = fields.Integer()
    last_period_start = fields.Date(allow_none=True)
    next_periods = fields.List(fields.Nested(NextPeriodSchema))

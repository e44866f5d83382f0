"""Roster JSON shapes (contract: /api/labs/<id>/roster...)."""
from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields, validate

from app.jsonio import UtcDateTime

from .services import FINDING_REASONS, STATUSES

ID = validate.Range(min=1, max=2**31 - 1)
# Dates a roster can hold (an exam, a training, an expiry): a year outside is a typing mistake.
DAY = validate.Range(min=date(1990, 1, 1), max=date(2099, 12, 31))
STAFF_NO = validate.Regexp(r"^[A-Za-z0-9._-]{1,32}$", error="1 to 32 letters, digits, dots, dashes or underscores.")


class EntryInSchema(Schema):
    """A person's access as the officer gives it (POST: name and staff_no required)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    staff_no = fields.String(required=True, validate=STAFF_NO,
                             metadata={"description": "Staff or student number (工号 / 学号)"})
    email = fields.Email(load_default="", validate=validate.Length(max=200))
    exam_date = fields.Date(load_default=None, allow_none=True, validate=DAY,
                            metadata={"description": "The school's safety exam"})
    exam_score = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(0, 100))
    exam_passed = fields.Boolean(load_default=False)
    training_date = fields.Date(load_default=None, allow_none=True, validate=DAY,
                                metadata={"description": "The lab's own training (art. 13(2))"})
    valid_until = fields.Date(load_default=None, allow_none=True, validate=DAY,
                              metadata={"description": "Inclusive; default: ACCESS_VALID_MONTHS after the exam"})


class EntryPatchSchema(Schema):
    """A change: only the fields sent; ``version`` as last read (a 409 if the entry changed since)."""

    name = fields.String(validate=validate.Length(min=1, max=100))
    staff_no = fields.String(validate=STAFF_NO)
    email = fields.Email(validate=validate.Length(max=200), allow_none=True)
    exam_date = fields.Date(allow_none=True, validate=DAY)
    exam_score = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 100))
    exam_passed = fields.Boolean()
    training_date = fields.Date(allow_none=True, validate=DAY)
    valid_until = fields.Date(allow_none=True, validate=DAY,
                              metadata={"description": "Inclusive; null keeps the one there"})
    version = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID)


class RevokeSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class EntrySchema(Schema):
    id = fields.Integer()
    lab_id = fields.Integer()
    name = fields.String()
    staff_no = fields.String()
    email = fields.String()
    exam_date = fields.Date(allow_none=True)
    exam_score = fields.Integer(allow_none=True)
    exam_passed = fields.Boolean()
    training_date = fields.Date(allow_none=True)
    valid_until = fields.Date()
    revoked_at = UtcDateTime(allow_none=True)
    version = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES), "description": "Access on the school's today (art. 13)"})


class RosterSchema(Schema):
    lab_id = fields.Integer()
    training_required = fields.Boolean(metadata={"description": "The lab requires its own training (art. 13(2))"})
    today = fields.Date(metadata={"description": "The school-local day the statuses are for"})
    entries = fields.List(fields.Nested(EntrySchema))
    may_manage = fields.Boolean(metadata={"description": "The current user keeps this roster (the lab's officer)"})
    may_record_finding = fields.Boolean(metadata={"description": "The current user may record a finding (art. 13(3))"})


class RosterQuerySchema(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=100),
                      metadata={"description": "A part of a name or staff number"})


class SettingSchema(Schema):
    training_required = fields.Boolean(required=True)


class ImportReportSchema(Schema):
    created = fields.List(fields.String())
    updated = fields.List(fields.String())
    unchanged = fields.List(fields.String())


class FindingInSchema(Schema):
    """A person working without valid access (art. 13(3)): a roster entry, or a name (and number) not on it."""

    client_uuid = fields.UUID(required=True, metadata={"description": "The phone's id of this finding (replays)"})
    entry_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID)
    name = fields.String(load_default="", validate=validate.Length(max=100))
    staff_no = fields.String(load_default="", validate=validate.Length(max=32))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class FindingSchema(Schema):
    id = fields.Integer()
    client_uuid = fields.String()
    lab_id = fields.Integer()
    entry_id = fields.Integer(allow_none=True)
    person_name = fields.String()
    staff_no = fields.String()
    reason = fields.String(metadata={"enum": list(FINDING_REASONS)})
    ticket_id = fields.Integer(metadata={"description": "The rectification ticket it opened"})
    created_at = UtcDateTime()


ROSTER_UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {
        "type": "string", "format": "binary",
        "description": "The exam system's export: CSV (UTF-8) or XLSX; at most 2 MB and 5000 rows"}},
}

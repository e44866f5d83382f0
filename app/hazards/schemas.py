"""Hazard report JSON shapes (contract: /api/hazard-reports)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.checklists.models import Severity
from app.jsonio import UtcDateTime

from .models import ReportState

ID = validate.Range(min=1, max=2**31 - 1)


class HazardReportInSchema(Schema):
    lab_id = fields.Integer(required=True, strict=True, validate=ID)
    text = fields.String(required=True, validate=validate.Length(max=20_000),
                         metadata={"description": "what the hazard is and where (HAZARD_TEXT_MAX characters)"})
    photos = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                         validate=validate.Length(max=20),
                         metadata={"description": "photo UUIDs, uploaded before or after (HAZARD_MAX_PHOTOS)"})
    client_uuid = fields.String(required=True, validate=validate.Length(max=64),
                                metadata={"description": "made once by the client: a replay records nothing new"})


class OpenTicketSchema(Schema):
    article = fields.String(load_default="30", validate=validate.Regexp(r"^\d{1,2}(\(\d{1,2}\))?$"),
                            metadata={"description": "the article the hazard falls under, e.g. 21 or 24(8)"})
    severity = fields.Enum(Severity, by_value=True, load_default=Severity.general)
    title = fields.String(load_default="", validate=validate.Length(max=200),
                          metadata={"description": "the ticket's title; default: the report's first line"})


class CloseReportSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=20_000))


class ReportQuerySchema(Schema):
    state = fields.Enum(ReportState, by_value=True)
    lab_id = fields.Integer(validate=ID)
    mine = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))


class ReportEventSchema(Schema):
    what = fields.String()
    at = UtcDateTime()
    by_id = fields.Integer(allow_none=True)
    detail = fields.Dict()


class HazardPhotoSchema(Schema):
    uuid = fields.String()
    arrived = fields.Boolean()
    thumb_url = fields.String(allow_none=True)
    display_url = fields.String(allow_none=True)


class HazardReportSchema(Schema):
    id = fields.Integer()
    lab_id = fields.Integer()
    lab_name = fields.String()
    reporter_id = fields.Integer(allow_none=True, metadata={"description": "none: reported without an account"})
    mine = fields.Boolean(metadata={"description": "reported by the current user"})
    text = fields.String()
    state = fields.Enum(ReportState, by_value=True)
    state_label = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    ticket_url = fields.String(allow_none=True)
    close_reason = fields.String()
    created_at = UtcDateTime()
    handled_at = UtcDateTime(allow_none=True)
    url = fields.String()


class HazardReportDetailSchema(HazardReportSchema):
    photos = fields.List(fields.Nested(HazardPhotoSchema))
    events = fields.List(fields.Nested(ReportEventSchema))
    allowed_actions = fields.List(fields.String(), metadata={"description": "open_ticket, close: what you may do now"})

"""Ticket JSON shapes (documented in /api/openapi.json)."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from app.jsonio import UtcDateTime  # noqa: F401  (tickets.schemas.UtcDateTime, as before)
from app.photos.signatures import SignatureSchema

from .lifecycle import ACTIONS


class PhotoRefSchema(Schema):
    uuid = fields.String()
    arrived = fields.Boolean(metadata={"description": "false: the photo is referred to but not uploaded yet "
                                                      "(evidence arriving); its URLs are null until it is"})
    thumb_url = fields.String(allow_none=True)
    display_url = fields.String(allow_none=True)


class ActorSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class TicketSignatureOutSchema(Schema):
    role = fields.String(metadata={"enum": ["rectifier", "verifier"]})
    name = fields.String()
    signed_at = UtcDateTime(allow_none=True, metadata={"description": "on the device; null for a refusal"})
    refused = fields.Boolean()
    reason = fields.String(metadata={"description": "why the signer refused to sign"})


class TicketEventSchema(Schema):
    id = fields.Integer()
    kind = fields.String(
        metadata={"description": "created, start_fix, submit_fix, verify, reject, declare_cannot_fix, escalate"}
    )
    label = fields.String(metadata={"description": "the kind, in the reader's language"})
    actor = fields.Nested(
        ActorSchema, allow_none=True, metadata={"description": "null: the system (nightly job, rules)"}
    )
    created_at = UtcDateTime()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    from_level = fields.String(allow_none=True)
    to_level = fields.String(allow_none=True)
    note = fields.String()
    photos = fields.List(fields.Nested(PhotoRefSchema))
    signature = fields.Nested(TicketSignatureOutSchema, allow_none=True, metadata={
        "description": "the reply slip's signature given with this event (submit_fix, verify); null: not signed "
                       "(the image is in the documents issued after it)"})


class DepartmentRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class TicketSchema(Schema):
    id = fields.Integer()
    lab_id = fields.Integer()
    lab_name = fields.String()
    college_id = fields.Integer()
    inspection_id = fields.Integer(allow_none=True)
    article = fields.String()
    title = fields.String()
    description = fields.String()
    severity = fields.String(metadata={"enum": ["general", "major"]})
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    state = fields.String(metadata={"enum": ["open", "fixing", "fix_submitted", "closed"]})
    level = fields.String(metadata={"enum": ["lab", "college", "school"]})
    deadline = UtcDateTime()
    overdue = fields.Boolean()
    cannot_fix = fields.Boolean()
    interim_measures = fields.String()
    fixed_by_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    escalated_at = UtcDateTime(allow_none=True)
    version = fields.Integer(metadata={"description": "send it back with an action; 409 when it changed"})
    url = fields.String()


class TicketDetailSchema(TicketSchema):
    events = fields.List(fields.Nested(TicketEventSchema))
    evidence_photos = fields.List(fields.Nested(PhotoRefSchema), metadata={"description": "the inspector's photos"})
    allowed_actions = fields.List(fields.String(validate=validate.OneOf(ACTIONS)))


class TicketQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a stray query parameter (cache buster, lang) is not an error

    state = fields.String(validate=validate.OneOf(["open", "fixing", "fix_submitted", "closed"]), load_default=None)
    level = fields.String(validate=validate.OneOf(["lab", "college", "school"]), load_default=None)
    overdue = fields.Boolean(
        load_default=False, truthy={"1", "true", "yes", "on"}, falsy={"0", "false", "no", "off", ""}
    )
    lab_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "page size (a phone screenful or two); the next page: Link rel=next"},
    )
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))


# One shared instance: building a schema deep-copies its fields, and load() keeps no state on it.
TICKET_QUERY = TicketQuerySchema()


class TicketActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    note = fields.String(load_default="", validate=validate.Length(max=5000))
    photos = fields.List(fields.String(validate=validate.Length(min=1, max=36)), load_default=list,
                         validate=validate.Length(max=20))
    interim_measures = fields.String(load_default="", validate=validate.Length(max=5000))
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=2**31 - 1),
                             metadata={"description": "the version you saw; a stale one answers 409"})
    client_uuid = fields.UUID(
        load_default=None, allow_none=True,
        metadata={"description": "a UUID made once per action: sent again, the action is not repeated (200 with "
                                 "the ticket as it is now); used for another ticket, action or user: 409"})
    signature = fields.Nested(SignatureSchema, load_default=None, allow_none=True, metadata={
        "description": "optional, with submit_fix (the lab's officer) and verify (the reviewer): the notice's reply "
                       "slip signed on a canvas (a PNG of at most 150 KB), or refused with a reason (art. 28)"})

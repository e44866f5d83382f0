"""Inspection JSON shapes (contract: POST /api/inspections, GET /api/inspections/<id>)."""
from __future__ import annotations

import uuid as uuid_module

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.jsonio import UtcDateTime
from app.photos.signatures import SignatureSchema, no_nul, sane_time

from .models import AnswerResult, InspectionLevel, SignatureRole

NOTE_MAX = 4000
PHOTOS_MAX = 20  # per answer
# Ids fit the database's integer; anything larger is simply not an id (and must not reach SQL).
ID = validate.Range(min=1, max=2**31 - 1)


_no_nul, _sane_time = no_nul, sane_time  # the signatures' own checks (app/photos/signatures.py)


class InspectionAnswerInSchema(Schema):
    item_id = fields.Integer(required=True, strict=True, validate=ID)
    result = fields.Enum(AnswerResult, by_value=True, required=True)
    note = fields.String(load_default="", validate=[validate.Length(max=NOTE_MAX), _no_nul])
    photos = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=PHOTOS_MAX))

    @validates_schema
    def _unique_photos(self, data, **kwargs):
        uuids = [str(u) for u in data.get("photos") or []]
        if len(uuids) != len(set(uuids)):
            raise ValidationError(_("The same photo is listed twice."), "photos")


_RESULTS = {r.value: r for r in AnswerResult}
_ANSWER_KEYS = frozenset(InspectionAnswerInSchema._declared_fields)
_ID_MIN, _ID_MAX = ID.min, ID.max


def _plain_answer(raw):
    """``raw`` as InspectionAnswerInSchema loads it, when it is plainly well formed; else None.

    Only the common case (exact JSON types, known keys, values within bounds) is taken here;
    anything else returns None and goes through the schema, which keeps every error message and
    the error layout its own. tests/inspections/test_answer_fast_path.py holds the two equal.
    """
    if type(raw) is not dict or not raw.keys() <= _ANSWER_KEYS:
        return None
    item_id, result = raw.get("item_id"), raw.get("result")
    if type(item_id) is not int or not _ID_MIN <= item_id <= _ID_MAX or type(result) is not str:
        return None
    result = _RESULTS.get(result)
    note = raw.get("note", "")
    if result is None or type(note) is not str or len(note) > NOTE_MAX or "\x00" in note:
        return None
    photos = []
    if "photos" in raw:
        given = raw["photos"]
        if type(given) is not list or len(given) > PHOTOS_MAX:
            return None
        for value in given:
            if type(value) is not str:
                return None
            try:
                photos.append(uuid_module.UUID(value))
            except ValueError:
                return None
        if len(set(photos)) != len(photos):
            return None
    return {"item_id": item_id, "result": result, "note": note, "photos": photos}


class InspectionAnswerList(fields.List):
    """``List(Nested(InspectionAnswerInSchema))``, loading plainly well-formed answers directly.

    A submission carries ~60 answers; a nested schema load per answer was most of the request's
    parsing time. The schema stays the contract (OpenAPI, errors): any answer the direct path does
    not take sends the whole list through ``fields.List`` as before.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list:
            loaded = []
            for raw in value:
                answer = _plain_answer(raw)
                if answer is None:
                    break
                loaded.append(answer)
            else:
                return loaded
        return super()._deserialize(value, attr, data, **kwargs)


class SignatureInSchema(SignatureSchema):
    """One signer's signature (a PNG drawn on the phone), or their refusal to sign with a reason."""

    role = fields.Enum(SignatureRole, by_value=True, required=True)


def _one_per_role(signatures) -> None:
    roles = [s["role"] for s in signatures or []]
    if len(roles) != len(set(roles)):
        raise ValidationError(_("Each role signs once."))


class InspectionInSchema(Schema):
    uuid = fields.UUID(required=True, metadata={"description": "named by the client; a replay sends the same"})
    lab_id = fields.Integer(required=True, strict=True, validate=ID)
    checklist_version_id = fields.Integer(required=True, strict=True, validate=ID)
    level = fields.Enum(InspectionLevel, by_value=True, required=True)
    # The client sends UTC with Z or an offset; a time without one is ambiguous and refused.
    started_at = fields.AwareDateTime(required=True, validate=_sane_time)
    finished_at = fields.AwareDateTime(required=True, validate=_sane_time)
    note = fields.String(load_default="", validate=[validate.Length(max=NOTE_MAX), _no_nul])
    answers = InspectionAnswerList(
        fields.Nested(InspectionAnswerInSchema), required=True, validate=validate.Length(min=1, max=500)
    )
    round_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID, metadata={
        "description": "the round (GET /api/me/rounds) this inspection is done for; the user must be assigned "
                       "the lab in it. It counts for the round if finished inside the round's window."})
    signatures = fields.List(
        fields.Nested(SignatureInSchema), load_default=None, allow_none=True,
        validate=[validate.Length(max=len(SignatureRole)), _one_per_role],
        metadata={"description": "optional: the inspector's and the lab representative's signatures, "
                                 "signed on the phone at the end of the inspection (or refused with a reason)"})


def _score_field(**kwargs):
    return fields.Float(allow_none=True, metadata={"description": (
        "0-100: weights of the items passed / weights of the items answered pass or fail (N/A left out), "
        "one decimal, by the checklist version answered; null when no item was answered pass or fail")}, **kwargs)


def _grade_field(**kwargs):
    return fields.String(allow_none=True, validate=validate.OneOf("ABCD"), metadata={
        "enum": ["A", "B", "C", "D"],
        "description": ("A pass; B pass after rectification; C re-check on site; D fail (any failed red-line "
                        "item, or a score below the bands in GRADE_BANDS); null with no score")}, **kwargs)


class SubmitResultSchema(Schema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    complete = fields.Boolean(required=True, metadata={"description": "every referenced photo has arrived"})
    missing_photos = fields.List(fields.String(), required=True)
    ticket_ids = fields.List(fields.Integer(), required=True)
    url = fields.String(required=True)
    score = _score_field(required=True)
    grade = _grade_field(required=True)


class InspectionPhotoRefSchema(Schema):
    uuid = fields.String(required=True)
    arrived = fields.Boolean(required=True, metadata={"description": "the photo is on the server (as tickets say)"})
    received = fields.Boolean(required=True, metadata={"description": "the same as arrived (its first name)"})
    thumb_url = fields.String(allow_none=True)
    display_url = fields.String(allow_none=True)
    original_url = fields.String(
        allow_none=True, metadata={"description": "only for roles allowed to see evidence originals"}
    )


class InspectionAnswerSchema(Schema):
    item_id = fields.Integer()
    item_key = fields.String()
    article = fields.String()
    article_label = fields.String(metadata={"description": "the article in Chinese, e.g. 第十六条（二）"})
    text = fields.String()
    text_en = fields.String(allow_none=True)
    severity = fields.String()
    photo_required = fields.Boolean()
    weight = fields.Integer(metadata={"description": "the item's weight in the score, as its version set it"})
    must_pass = fields.Boolean(metadata={"description": "a red-line item: failed, it grades the inspection D"})
    result = fields.String()
    note = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    photos = fields.List(fields.Nested(InspectionPhotoRefSchema))


class InspectorSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class InspectionSummarySchema(Schema):
    id = fields.Integer()
    uuid = fields.String()
    lab_id = fields.Integer()
    level = fields.String()
    checklist_key = fields.String()
    checklist_title = fields.String()
    checklist_title_en = fields.String(allow_none=True)
    checklist_version_id = fields.Integer()
    checklist_version = fields.Integer()
    inspector = fields.Nested(InspectorSchema)
    started_at = fields.DateTime()
    finished_at = fields.DateTime()
    received_at = fields.DateTime()
    note = fields.String()
    score = _score_field()
    grade = _grade_field()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "pass / fail / na"})
    complete = fields.Boolean()
    missing_photos = fields.List(fields.String())
    ticket_ids = fields.List(fields.Integer())
    url = fields.String()


class SignatureOutSchema(Schema):
    role = fields.String(metadata={"enum": [r.value for r in SignatureRole]})
    name = fields.String()
    signed_at = fields.DateTime(allow_none=True, metadata={"description": "on the phone; null for a refusal"})
    refused = fields.Boolean()
    reason = fields.String(metadata={"description": "why the signer refused to sign"})


class InspectionOutSchema(InspectionSummarySchema):
    lab_name = fields.String()
    answers = fields.List(fields.Nested(InspectionAnswerSchema))
    signatures = fields.List(fields.Nested(SignatureOutSchema), metadata={
        "description": "given on the phone (the images are in the inspection record's PDF); a role that "
                       "did not sign is absent"})


class LabInspectionsQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MissedCheckSchema(Schema):
    day = fields.Date()
    flagged_at = UtcDateTime()
    cleared_at = UtcDateTime(allow_none=True, metadata={
        "description": "set when a daily check of that day synced late (within LATE_SYNC_DAYS) cleared the flag"})
    cleared_by_inspection_id = fields.Integer(allow_none=True)

"""JSON API of holiday closures in bulk and daily-check designees (issue 22, art. 29)."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required
from marshmallow import Schema, fields, validate

from app.apidoc import doc
from app.jsonio import JsonLimit, UtcDateTime
from app.policy import Action, authorize
from app.timeutil import school_today, utcnow

from . import closures, designees, services
from .closures import DAYS

ID = validate.Range(min=1, max=2**31 - 1)  # a database id

bp = Blueprint("closures_api", __name__, url_prefix="/api")

# Up to MAX_LAB_IDS lab ids (7 bytes each at most) and a 200-character reason.
CLOSE_BODY = JsonLimit(max_bytes=64 * 1024, max_items=closures.MAX_LAB_IDS + 32)


class CloseLabsSchema(Schema):
    college_id = fields.Integer(load_default=None, validate=ID, metadata={"description": "All the college's labs"})
    building = fields.String(load_default=None, validate=validate.Length(max=100))
    category = fields.String(load_default=None, metadata={"description": "chemistry, biology, physics, ..."})
    lab_ids = fields.List(fields.Integer(validate=ID), load_default=None)
    all = fields.Boolean(load_default=False, metadata={"description": "Every lab in reach (no other filter)"})
    from_ = fields.Date(required=True, validate=DAYS, data_key="from")
    to = fields.Date(required=True, validate=DAYS)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ClosureBatchSchema(Schema):
    id = fields.Integer()
    scope = fields.String(metadata={"description": "The filters used: college, building, category, labs or all"})
    scope_value = fields.String()
    college_id = fields.Integer(allow_none=True)
    from_ = fields.Date(attribute="start_date", data_key="from")
    to = fields.Date(attribute="end_date", metadata={"description": "Last closed day as planned"})
    reason = fields.String()
    lab_count = fields.Integer()
    created_at = UtcDateTime()
    created_by_id = fields.Integer(allow_none=True)
    reopened_on = fields.Date(allow_none=True, metadata={"description": "First day open again, if reopened early"})
    reopened_at = UtcDateTime(allow_none=True)
    reopened_by_id = fields.Integer(allow_none=True)


class ClosedLabsSchema(ClosureBatchSchema):
    closed = fields.Integer(metadata={"description": "Labs closed by this request"})
    already_closed = fields.Integer(metadata={"description": "Chosen labs already closed for the whole range"})


class ReopenSchema(Schema):
    on = fields.Date(load_default=None, validate=DAYS,
                     metadata={"description": "First day open again (default: today)"})


class ReopenedSchema(ClosureBatchSchema):
    reopened_labs = fields.Integer()


class ClosureQuerySchema(Schema):
    current = fields.Boolean(load_default=False)


class DesignateSchema(Schema):
    user_id = fields.Integer(required=True, validate=ID)
    from_ = fields.Date(load_default=None, validate=DAYS, data_key="from")
    to = fields.Date(load_default=None, validate=DAYS)


class DesigneeSchema(Schema):
    id = fields.Integer()
    lab_id = fields.Integer()
    user_id = fields.Integer()
    from_ = fields.Date(attribute="start_date", data_key="from", allow_none=True)
    to = fields.Date(attribute="end_date", allow_none=True)
    named_at = UtcDateTime()
    named_by_id = fields.Integer(allow_none=True)
    revoked_at = UtcDateTime(allow_none=True)
    revoked_by_id = fields.Integer(allow_none=True)


_BATCH = ClosureBatchSchema()
_DESIGNEE = DesigneeSchema()


def _today():
    return school_today(current_app.config["SCHOOL_TIMEZONE"])


@bp.post("/closures")
@login_required
@doc("Close many labs at once (holidays): by college, building, category or a list (filters combine), "
     "from/to inclusive, with a reason. A college leader closes only the college's labs",
     request=CloseLabsSchema, response=ClosedLabsSchema, status=201, json_limit=CLOSE_BODY,
     responses={400: "No labs chosen, bad dates or no reason", 403: "A college or lab out of your reach",
                404: "Unknown college or lab"})
def close_labs():
    authorize(current_user, Action.CLOSE_LABS)
    data = CloseLabsSchema().load(request.get_json(silent=True) or {})
    batch, already = closures.close_labs(
        current_user, start=data["from_"], end=data["to"], reason=data["reason"], now=utcnow(),
        college_id=data["college_id"], building=data["building"], category=data["category"],
        lab_ids=data["lab_ids"], everything=data["all"],
    )
    body = _BATCH.dump(batch)
    body.update(closed=batch.lab_count, already_closed=already)
    return body, 201


@bp.get("/closures")
@login_required
@doc("Bulk closures with a lab in your reach, newest first (current=1: not over yet)",
     query=ClosureQuerySchema, response=ClosureBatchSchema, many=True)
def list_closures():
    authorize(current_user, Action.CLOSE_LABS)
    q = ClosureQuerySchema().load(request.args)
    return ClosureBatchSchema(many=True).dump(
        closures.batches(current_user, current_on=_today() if q["current"] else None))


@bp.post("/closures/<int:batch_id>/reopen")
@login_required
@doc("Reopen a bulk closure early (recorded: the end first planned, who, when)",
     request=ReopenSchema, response=ReopenedSchema,
     responses={403: "The closure has labs out of your reach", 404: "No such closure",
                409: "Already reopened or already over"})
def reopen_closure(batch_id: int):
    authorize(current_user, Action.CLOSE_LABS)
    data = ReopenSchema().load(request.get_json(silent=True) or {})
    n = closures.reopen(current_user, batch_id, on_day=data["on"] or _today(), now=utcnow())
    body = _BATCH.dump(closures.get_batch(current_user, batch_id))
    body["reopened_labs"] = n
    return body


@bp.get("/labs/<int:lab_id>/designees")
@login_required
@doc("A lab's daily-check designees (art. 29), revoked ones too", response=DesigneeSchema, many=True)
def lab_designees(lab_id: int):
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.VIEW_LAB, lab)
    return DesigneeSchema(many=True).dump(designees.designations(lab.id))


@bp.post("/labs/<int:lab_id>/designate")
@login_required
@doc("The lab's officer designates a user to do the daily check (art. 29), optionally from/to",
     request=DesignateSchema, response=DesigneeSchema, status=201,
     responses={400: "No such active user or bad dates", 409: "Already designated in this period"})
def designate(lab_id: int):
    lab = services.get_lab(lab_id)
    authorize(current_user, Action.DESIGNATE_DAILY_CHECK, lab)
    data = DesignateSchema().load(request.get_json(silent=True) or {})
    row = designees.designate(lab, user_id=data["user_id"], start=data["from_"], end=data["to"],
                              by_user_id=current_user.id, now=utcnow())
    return _DESIGNEE.dump(row), 201


@bp.post("/designees/<int:designation_id>/revoke")
@login_required
@doc("Revoke a daily-check designation (kept, with who and when)", response=DesigneeSchema,
     responses={409: "Already revoked"})
def revoke_designee(designation_id: int):
    row = designees.get_designation(designation_id)
    authorize(current_user, Action.DESIGNATE_DAILY_CHECK, row)
    return _DESIGNEE.dump(designees.revoke(row, by_user_id=current_user.id, now=utcnow()))

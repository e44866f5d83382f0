"""Accident JSON shapes (contract: /api/accidents)."""
from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, post_load, validate

from app.inspections.schemas import _no_nul, _sane_time  # the same checks as an inspection's text and times
from app.jsonio import UtcDateTime

from .models import AccidentGrade, AccidentState, EnvironmentDamage, ReportKind, StabilityHarm

ID = validate.Range(min=1, max=2**31 - 1)
COUNT = validate.Range(min=0, max=100_000)
TEXT_MAX = 10_000


def _text(required: bool = False, max_len: int = TEXT_MAX, **kw):
    checks = [validate.Length(min=1 if required else 0, max=max_len), _no_nul]
    if required:
        return fields.String(required=True, validate=checks, **kw)
    return fields.String(load_default="", validate=checks, **kw)


class AccidentInSchema(Schema):
    client_uuid = fields.UUID(required=True, metadata={"description": "made once by the phone; a replay is 200"})
    lab_id = fields.Integer(required=True, strict=True, validate=ID)
    occurred_at = fields.AwareDateTime(required=True, validate=_sane_time, metadata={"description": "with its offset"})
    place = _text(max_len=200, metadata={"description": "where in or near the lab"})
    description = _text(required=True, metadata={"description": "what happened"})
    deaths = fields.Integer(load_default=0, strict=True, validate=COUNT)
    serious_injuries = fields.Integer(load_default=0, strict=True, validate=COUNT,
                                      metadata={"description": "incl. poisoning and organ damage (art. 33)"})
    light_injuries = fields.Integer(load_default=0, strict=True, validate=COUNT)
    property_loss_yuan = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=2**31 - 1))
    environment = fields.Enum(EnvironmentDamage, by_value=True, load_default=EnvironmentDamage.none)
    environment_note = _text()
    stability = fields.Enum(StabilityHarm, by_value=True, load_default=StabilityHarm.none,
                            metadata={"description": "harm or threat to the school's safety and stability"})
    stability_note = _text()
    first_measures = _text(metadata={"description": "the emergency response taken (art. 31)"})
    photos = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20),
                         metadata={"description": "photo UUIDs, uploaded before or after (report first)"})

    @post_load
    def _plain(self, data, **kwargs):
        data["client_uuid"] = str(data["client_uuid"])
        data["photos"] = [str(u) for u in data["photos"]]
        data["occurred_at"] = data["occurred_at"].astimezone(UTC).replace(tzinfo=None)
        data["environment"] = data["environment"].value
        data["stability"] = data["stability"].value
        return data


class ReportableLabSchema(Schema):
    """A lab the user may report an accident in, as the phone's form lists it."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)


class GradeInSchema(Schema):
    grade = fields.Enum(AccidentGrade, by_value=True, required=True)
    reason = _text(max_len=2000, metadata={"description": "required when the grade differs (art. 33)"})


class ReportInSchema(Schema):
    summary = _text(required=True, metadata={"description": "the course of events / of the investigation"})
    causes = _text()
    nature = _text(metadata={"description": "investigation: the accident's nature (required there)"})
    responsibility = _text(metadata={"description": "investigation: who answers for it (required there)"})
    measures = _text(metadata={"description": "rectification and prevention measures"})
    proposals = _text(metadata={"description": "investigation: proposals for handling (处理建议)"})


class CloseInSchema(Schema):
    note = _text(max_len=2000)


class AccidentQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    college_id = fields.Integer(validate=ID)
    state = fields.Enum(AccidentState, by_value=True)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class VetoQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class AccidentSchema(Schema):
    id = fields.Integer()
    client_uuid = fields.String()
    lab_id = fields.Integer()
    college_id = fields.Integer()
    occurred_at = UtcDateTime()
    place = fields.String()
    description = fields.String()
    deaths = fields.Integer()
    serious_injuries = fields.Integer()
    light_injuries = fields.Integer()
    property_loss_yuan = fields.Integer()
    environment = fields.String(attribute="environment.value")
    environment_note = fields.String()
    stability = fields.String(attribute="stability.value")
    stability_note = fields.String()
    first_measures = fields.String()
    proposed_grade = fields.String(attribute="proposed_grade.value")
    grade = fields.Function(lambda a: a.grade.value if a.grade else None, metadata={"description": "confirmed"})
    state = fields.String(attribute="state.value")
    unit_report_due_at = UtcDateTime()
    reported_by_id = fields.Integer()
    reported_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)


class AccidentDetailSchema(AccidentSchema):
    photos = fields.List(fields.Dict())
    overdue = fields.Boolean()
    next_steps = fields.List(fields.String())
    reports = fields.List(fields.Dict())


class AccidentEventSchema(Schema):
    id = fields.Integer()
    at = UtcDateTime()
    actor_id = fields.Integer()
    kind = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    detail = fields.Dict()


class AccidentReportSchema(Schema):
    id = fields.Integer()
    kind = fields.String(attribute="kind.value")
    summary = fields.String()
    causes = fields.String()
    nature = fields.String()
    responsibility = fields.String()
    measures = fields.String()
    proposals = fields.String()
    filed_by_id = fields.Integer()
    filed_at = UtcDateTime()
    pdf_url = fields.Function(lambda r: f"/accidents/{r.accident_id}/reports/{r.kind.value}.pdf")


class VetoSchema(Schema):
    college_id = fields.Integer()
    year = fields.Integer()
    vetoed = fields.Boolean(metadata={"description": "art. 5: an accident this year (一票否决)"})
    accidents = fields.Integer()


REPORT_KINDS = tuple(k.value for k in ReportKind)

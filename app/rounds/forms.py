"""The rounds pages' HTML forms: flat fields, read into the shapes the services take (the same as the
JSON API's RoundInSchema and AssignmentsInSchema). Error keys are the forms' field names."""
from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from app.org.closures import DAYS
from app.org.models import HAZARD_TAGS, LabCategory, RiskLevel
from app.org.schemas import _Form

from .models import SPECIAL_TOPICS, RoundKind
from .schemas import ID

MODES = ("all", "college", "category", "hazard_tag", "risk_level", "list")
# The field each way of choosing labs needs (LabSelectionSchema's rule, with the form's names).
MODE_FIELDS = {"college": ("labs_college_id", "college_id"), "category": ("labs_category", "category"),
               "hazard_tag": ("labs_hazard_tag", "hazard_tag"), "risk_level": ("labs_risk_levels", "risk_levels"),
               "list": ("lab_ids", "lab_ids")}
LISTS = ("labs_risk_levels", "lab_ids", "inspector_ids")  # fields posted as several values


class RoundForm(_Form):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.Enum(RoundKind, by_value=True, required=True)
    topic = fields.String(load_default=None, validate=validate.OneOf(tuple(SPECIAL_TOPICS)))
    checklist_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    window_from = fields.Date(required=True, validate=DAYS)
    window_to = fields.Date(required=True, validate=DAYS)
    owner_college_id = fields.Integer(load_default=None, validate=ID)
    unannounced = fields.Boolean(load_default=False)
    labs_mode = fields.String(load_default="all", validate=validate.OneOf(MODES))
    labs_college_id = fields.Integer(load_default=None, validate=ID)
    labs_category = fields.String(load_default=None, validate=validate.OneOf([c.value for c in LabCategory]))
    labs_hazard_tag = fields.String(load_default=None, validate=validate.OneOf(HAZARD_TAGS))
    labs_risk_levels = fields.List(fields.String(validate=validate.OneOf([r.value for r in RiskLevel])),
                                   load_default=list, validate=validate.Length(max=4))
    lab_ids = fields.List(fields.Integer(validate=ID), load_default=list, validate=validate.Length(max=20_000))
    spot_check = fields.Integer(load_default=None, validate=validate.Range(min=1, max=20_000))
    seed = fields.Integer(load_default=None, validate=validate.Range(min=0, max=2**31 - 1))
    inspector_ids = fields.List(fields.Integer(validate=ID), load_default=list, validate=validate.Length(max=500))
    assign = fields.String(load_default="even", validate=validate.OneOf(("even", "hand")))

    @validates_schema
    def _needs(self, data, **kwargs):
        name = MODE_FIELDS.get(data.get("labs_mode", "all"), (None,))[0]
        if name and not data.get(name):
            raise ValidationError(_("Missing data for required field."), name)
        if data.get("kind") is RoundKind.special and not data.get("topic"):
            raise ValidationError(_("Missing data for required field."), "topic")
        if data.get("kind") is RoundKind.college_monthly and not data.get("owner_college_id"):
            raise ValidationError(_("Missing data for required field."), "owner_college_id")

    @post_load
    def _round(self, data, **kwargs) -> dict:
        """The RoundInSchema shape: a college is the owner of a college's round only, a topic belongs to
        a special round only (values left in hidden parts of the form mean nothing)."""
        kind, mode = data["kind"], data["labs_mode"]
        labs = {"mode": mode}
        if mode in MODE_FIELDS:
            form_name, key = MODE_FIELDS[mode]
            labs[key] = data[form_name]
        return {
            "title": data["title"].strip(), "kind": kind,
            "topic": data["topic"] if kind is RoundKind.special else None,
            "checklist_key": data["checklist_key"], "window_from": data["window_from"],
            "window_to": data["window_to"],
            "owner_college_id": data["owner_college_id"] if kind is RoundKind.college_monthly else None,
            "unannounced": data["unannounced"], "labs": labs, "spot_check": data["spot_check"],
            "seed": data["seed"], "inspector_ids": list(dict.fromkeys(data["inspector_ids"])),
            "assign": data["assign"], "assignments": [],
        }


class AssignForm(_Form):
    """The round page's reassignment: the ticked labs go to one inspector (none: unassigned)."""

    lab_ids = fields.List(fields.Integer(validate=ID), required=True, validate=validate.Length(min=1, max=20_000))
    inspector_id = fields.Integer(load_default=None, validate=ID)

    @post_load
    def _assignments(self, data, **kwargs) -> list[dict]:
        """The services' assignments (AssignmentsInSchema's ``assignments``)."""
        return [{"lab_id": lab_id, "inspector_id": data["inspector_id"]} for lab_id in dict.fromkeys(data["lab_ids"])]

"""Query parameters of the report pages and exports."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from app.errors import InvalidInput

from . import services


class MonthlyQuerySchema(Schema):
    """?month=YYYY-MM (default: the last complete month) &college_id=N (default: the whole school)."""

    class Meta:
        unknown = EXCLUDE  # ?lang= and friends belong to other layers

    month = fields.String(load_default=None)
    college_id = fields.Integer(load_default=None, validate=validate.Range(min=1))

    @post_load
    def _month(self, data, **kwargs):
        if data.get("month"):
            try:
                data["month"] = services.parse_month(data["month"])
            except InvalidInput as err:
                raise ValidationError({"month": [err.message]}) from err
        return data


class NameplateQuerySchema(Schema):
    """?size=a5|a4: the paper the plates are printed on."""

    class Meta:
        unknown = EXCLUDE

    size = fields.String(load_default="a5", validate=validate.OneOf(["a5", "a4"]))

"""Query parameters of the report pages and exports."""
from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from app.errors import InvalidInput
from app.rounds.schemas import RoundSchema
from app.timeutil import add_months

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


# ---- GET /api/reports/rounds (issue 22): planned / done / late per round and college, month over month ----

ROUND_FIGURES_MAX_MONTHS = 24


class RoundFiguresQuerySchema(Schema):
    """?from=YYYY-MM&to=YYYY-MM (default: the current month and the five before) &college_id=N."""

    class Meta:
        unknown = EXCLUDE

    first = fields.String(data_key="from", load_default=None, metadata={"description": "YYYY-MM, the first month"})
    last = fields.String(data_key="to", load_default=None, metadata={"description": "YYYY-MM, the last month"})
    college_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1),
                                metadata={"description": "one college (its labs only); none: the whole school"})

    @post_load
    def _months(self, data, **kwargs):
        # InvalidInput, not ValidationError: the 400 says at its top what is wrong with the months.
        for key, name in (("first", "from"), ("last", "to")):
            if data.get(key):
                try:
                    data[key] = services.parse_month(data[key])
                except InvalidInput as err:
                    raise InvalidInput(err.message, {"fields": {name: [err.message]}}) from None
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                msg = _("The first month (from) is after the last (to).")
                raise InvalidInput(msg, {"fields": {"from": [msg]}})
            if add_months(first, ROUND_FIGURES_MAX_MONTHS - 1) < last:
                msg = _("Ask for at most %(n)d months at a time.", n=ROUND_FIGURES_MAX_MONTHS)
                raise InvalidInput(msg, {"fields": {"to": [msg]}})
        return data


class TallySchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM"})
    planned = fields.Integer(metadata={"description": "round labs planned in rounds whose window ends in the month"})
    done = fields.Integer(metadata={"description": "done by their first qualifying inspection"})
    late = fields.Integer(metadata={"description": "not done, the window over"})


class FigureRoundSchema(RoundSchema):
    """A round as the figures show it: no spot check's seed (the draw is the round's page's)."""

    class Meta:
        exclude = ("seed", "draw_n")

    month = fields.String(metadata={"description": "YYYY-MM: the month the window ends in"})


class CollegeTallySchema(Schema):
    college_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    months = fields.List(fields.Nested(TallySchema))


class RoundFiguresSchema(Schema):
    months = fields.List(fields.String(), metadata={"description": "YYYY-MM, oldest first"})
    college_id = fields.Integer(allow_none=True)
    total = fields.List(fields.Nested(TallySchema), metadata={"description": "the scope's labs per month"})
    colleges = fields.List(fields.Nested(CollegeTallySchema))
    rounds = fields.List(fields.Nested(FigureRoundSchema), metadata={"description": "by window end"})

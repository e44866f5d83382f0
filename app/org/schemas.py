from marshmallow import Schema, fields

from app.auth.services import lab_officer_contacts


class OfficerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)


_OFFICERS = OfficerSchema(many=True)


class LabSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    building = fields.String()
    floor = fields.String()
    room = fields.String()
    college_id = fields.Integer()
    college_name = fields.Function(lambda lab: lab.college.name, metadata={"type": "string"})
    category = fields.Function(lambda lab: lab.category.value, metadata={"type": "string"})
    hazard_tags = fields.List(fields.String())
    phone = fields.String()
    active = fields.Boolean()


class LabDetailSchema(LabSchema):
    """One lab as its door card shows it: with its safety officers (art. 24(1))."""

    officers = fields.Method("_officers", metadata={
        "type": "array",
        "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string", "nullable": True},
        }},
    })

    def _officers(self, lab):
        return _OFFICERS.dump(lab_officer_contacts(lab.id))


def lab_card(rows) -> dict:
    """LabDetailSchema's output from the card rows of org.services.lab_card_by_token (the lab's columns,
    then an officer's), without marshmallow on the QR path; tests/org/test_qr.py holds the two equal."""
    row = rows[0]
    return {
        "id": row.id, "code": row.code, "name": row.name, "name_en": row.name_en, "building": row.building,
        "floor": row.floor, "room": row.room, "college_id": row.college_id, "college_name": row.college_name,
        "category": row.category.value, "hazard_tags": list(row.hazard_tags or ()), "phone": row.phone,
        "active": row.active,
        "officers": [{"id": r.officer_id, "name": r.officer_name, "phone": r.officer_phone}
                     for r in rows if r.officer_id is not None],
    }


# ---- admin forms (HTML form fields are text; checkboxes absent mean False) ---------------------
from marshmallow import EXCLUDE, validate  # noqa: E402

from .models import CollegeKind  # noqa: E402


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE  # csrf_token and buttons


class CollegeForm(_Form):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    kind = fields.Enum(CollegeKind, by_value=True, load_default=CollegeKind.college)
    active = fields.Boolean(load_default=False)


class DepartmentForm(_Form):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    remit = fields.String(load_default="", validate=validate.Length(max=4000))


class LabForm(_Form):
    code = fields.String(load_default="")
    name = fields.String(load_default="")
    name_en = fields.String(load_default="")
    building = fields.String(load_default="")
    floor = fields.String(load_default="")
    room = fields.String(load_default="")
    phone = fields.String(load_default="")
    college_id = fields.Integer(load_default=None, allow_none=True)
    category = fields.String(load_default="")
    hazard_tags = fields.List(fields.String(), load_default=list)
    active = fields.Boolean(load_default=False)
    officers = fields.String(load_default="")  # usernames, on creation


class ClosureForm(_Form):
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=200))

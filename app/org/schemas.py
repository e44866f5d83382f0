from marshmallow import Schema, fields


class OfficerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)


class LabSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    building = fields.String()
    floor = fields.String()
    room = fields.String()
    college_id = fields.Integer()
    college_name = fields.Function(lambda lab: lab.college.name)
    category = fields.Function(lambda lab: lab.category.value)
    hazard_tags = fields.List(fields.String())
    phone = fields.String()
    active = fields.Boolean()

from marshmallow import Schema, fields, validate

from .models import Role


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class RoleSchema(Schema):
    role = fields.Enum(Role, by_value=True)
    college_id = fields.Integer(allow_none=True)
    lab_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    roles = fields.List(fields.Nested(RoleSchema))


class CsrfSchema(Schema):
    csrf_token = fields.String(required=True)

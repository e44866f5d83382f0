from marshmallow import Schema, fields, pre_load, validate

from .models import MESSENGER_USERID_MAX, MESSENGER_USERID_PATTERN, Role


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


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


# ---- admin forms --------------------------------------------------------------------------
from marshmallow import EXCLUDE  # noqa: E402


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE  # csrf_token and buttons


def strip_messenger_ids(data) -> dict:
    """A form's WeCom / DingTalk ids without the spaces around them (pasted from a console)."""
    return {k: (v.strip() if k in ("wecom_userid", "dingtalk_userid") and isinstance(v, str) else v)
            for k, v in data.items()}


class UserEditForm(_Form):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    email = fields.String(load_default="", validate=validate.Length(max=200))
    phone = fields.String(load_default="", validate=validate.Length(max=40))
    staff_no = fields.String(load_default="", validate=validate.Length(max=64))  # 工号 (campus login)
    # The user's WeCom / DingTalk ids (app.notifications sends to them); the user can set them too.
    wecom_userid = fields.String(load_default="", validate=[validate.Length(max=MESSENGER_USERID_MAX),
                                                             validate.Regexp(MESSENGER_USERID_PATTERN)])
    dingtalk_userid = fields.String(load_default="", validate=[validate.Length(max=MESSENGER_USERID_MAX),
                                                                validate.Regexp(MESSENGER_USERID_PATTERN)])

    @pre_load
    def _strip_ids(self, data, **kwargs):
        return strip_messenger_ids(data)


class UserCreateForm(UserEditForm):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(max=256))


class PasswordForm(_Form):
    password = fields.String(required=True, validate=validate.Length(max=256))


class OwnPasswordForm(PasswordChangeSchema, _Form):
    """The page's form: the API's fields, typed again once."""

    confirm_password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class RoleGrantForm(_Form):
    role = fields.Enum(Role, by_value=True, required=True)
    college_id = fields.Integer(load_default=None, allow_none=True)
    lab_code = fields.String(load_default="")
    department_id = fields.Integer(load_default=None, allow_none=True)


class FirstPasswordForm(_Form):
    """A set-password link's form (a user imported without a password)."""

    new_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    confirm_password = fields.String(required=True, validate=validate.Length(min=1, max=256))

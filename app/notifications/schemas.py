from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from app.auth.models import MESSENGER_USERID_PATTERN
from app.auth.schemas import strip_messenger_ids
from app.jsonio import UtcDateTime


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(
        metadata={
            "description": "new_ticket, escalated, fix_submitted, fix_rejected, ticket_closed, "
            "overdue, routed, cannot_fix, missed_check, missed_streak, missed_streak_corrected, round_due, round_late"
        }
    )
    label = fields.String(metadata={"description": "the kind, in the reader's language"})
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    lab_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()
    read_at = UtcDateTime(allow_none=True)
    email = fields.String(allow_none=True, metadata={"description": "null (no e-mail), waiting, sent or failed"})


class NotificationQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(load_default=False, truthy={"1", "true", "yes"}, falsy={"0", "false", "no", ""})


# ---- channels and messengers (issue 25) -------------------------------------------------------

_ID = MESSENGER_USERID_PATTERN  # WeCom and DingTalk user ids: letters, digits, _ . @ -


class ChannelsForm(Schema):
    """A user's choice: follow the site's default, or these channels (none: in-app only), and their ids."""

    class Meta:
        unknown = EXCLUDE

    follow_site = fields.Boolean(load_default=False, truthy={"1", "on", "true"}, falsy={"0", "", "false"})
    channels = fields.List(fields.String(validate=validate.OneOf(["email", "wecom", "dingtalk"])), load_default=list)
    wecom_userid = fields.String(load_default="", validate=[validate.Length(max=64), validate.Regexp(_ID)])
    dingtalk_userid = fields.String(load_default="", validate=[validate.Length(max=64), validate.Regexp(_ID)])

    @pre_load
    def _strip_ids(self, data, **kwargs):
        return strip_messenger_ids(data)


class CollegeRobotForm(Schema):
    class Meta:
        unknown = EXCLUDE

    wecom_key = fields.String(load_default="", validate=[validate.Length(max=200),
                                                          validate.Regexp(r"^[A-Za-z0-9_-]*$")])
    dingtalk_token = fields.String(load_default="", validate=[validate.Length(max=200),
                                                               validate.Regexp(r"^[A-Za-z0-9_-]*$")])
    dingtalk_secret = fields.String(load_default="", validate=[validate.Length(max=200),
                                                                validate.Regexp(r"^[A-Za-z0-9_-]*$")])
    remove_wecom = fields.Boolean(load_default=False, truthy={"1", "on", "true"}, falsy={"0", "", "false"})
    remove_dingtalk = fields.Boolean(load_default=False, truthy={"1", "on", "true"}, falsy={"0", "", "false"})


class RetryForm(Schema):
    """Send again: every failed row (no field), or one unsent row (its table and id)."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(load_default=None, validate=validate.OneOf(["email", "message"]))
    id = fields.Integer(load_default=None, validate=validate.Range(1, 2**63 - 1))


class TestMessageForm(Schema):
    class Meta:
        unknown = EXCLUDE

    channel = fields.String(required=True, validate=validate.OneOf(
        ["email", "wecom_app", "wecom_robot", "dingtalk_work", "dingtalk_robot"]))
    college_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 2**31 - 1))

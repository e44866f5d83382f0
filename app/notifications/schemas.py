from marshmallow import EXCLUDE, Schema, fields

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

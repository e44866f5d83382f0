"""The notice channels' names, in the reader's language (issue 25)."""
from flask_babel import gettext, lazy_gettext

from .models import DINGTALK_ROBOT, DINGTALK_WORK, WECOM_APP, WECOM_ROBOT

CHANNEL_LABELS = {
    "email": lazy_gettext("E-mail"),
    WECOM_APP: lazy_gettext("WeCom app message"),
    WECOM_ROBOT: lazy_gettext("WeCom group robot"),
    DINGTALK_WORK: lazy_gettext("DingTalk work notice"),
    DINGTALK_ROBOT: lazy_gettext("DingTalk group robot"),
}


# The forms' fields, to name them in a refusal in the reader's language (never the field's key).
FIELD_LABELS = {
    "follow_site": lazy_gettext("Follow the school’s default"),
    "channels": lazy_gettext("Channels"),
    "wecom_userid": lazy_gettext("My WeCom user id (账号)"),
    "dingtalk_userid": lazy_gettext("My DingTalk userid"),
    "wecom_key": lazy_gettext("WeCom robot key"),
    "dingtalk_token": lazy_gettext("DingTalk robot token"),
    "dingtalk_secret": lazy_gettext("DingTalk signing secret"),
    "remove_wecom": lazy_gettext("WeCom robot key"),
    "remove_dingtalk": lazy_gettext("DingTalk robot token"),
    "channel": lazy_gettext("Channel"),
    "college_id": lazy_gettext("College"),
    "kind": lazy_gettext("Message to send again"),
    "id": lazy_gettext("Message to send again"),
}


def _problems(value) -> list[str]:
    if isinstance(value, dict):  # a list field's errors, by item
        return [p for v in value.values() for p in _problems(v)]
    if isinstance(value, list):
        return [p for v in value for p in _problems(v)]
    return [str(value)]


def refusal_text(messages: dict) -> str:
    """A form's validation errors (localized) as one line: each field by its label, then its problems."""
    return "; ".join(gettext("%(field)s: %(problem)s", field=FIELD_LABELS.get(k, k),
                             problem=", ".join(_problems(v))) for k, v in messages.items())

"""The notice channels' names, in the reader's language (issue 25)."""
from flask_babel import lazy_gettext

from .models import DINGTALK_ROBOT, DINGTALK_WORK, WECOM_APP, WECOM_ROBOT

CHANNEL_LABELS = {
    "email": lazy_gettext("E-mail"),
    WECOM_APP: lazy_gettext("WeCom app message"),
    WECOM_ROBOT: lazy_gettext("WeCom group robot"),
    DINGTALK_WORK: lazy_gettext("DingTalk work notice"),
    DINGTALK_ROBOT: lazy_gettext("DingTalk group robot"),
}

"""Access matrix for the notice channels (issue 25): everyone chooses their own channels; only the school
admin sees the channels' state, sends test messages, the outbox and the colleges' robots (art. 9(1))."""
from tests.access.matrix import ADMIN, EVERYONE, Case

CASES = [
    Case("GET", "/account/channels", "/account/channels", allow=EVERYONE, note="one's own channels only"),
    Case("POST", "/account/channels", "/account/channels", allow=EVERYONE,
         data={"follow_site": "1", "wecom_userid": "", "dingtalk_userid": ""}),
    Case("GET", "/admin/messengers", "/admin/messengers", allow=ADMIN),
    Case("POST", "/admin/messengers/test", "/admin/messengers/test", allow=ADMIN,
         data={"channel": "wecom_robot"}, note="not configured in the matrix: the page says so"),
    Case("POST", "/admin/messengers/retry", "/admin/messengers/retry", allow=ADMIN),
    Case("POST", "/admin/messengers/colleges/<int:college_id>", "/admin/messengers/colleges/{college_a}", allow=ADMIN,
         data={"wecom_key": "", "dingtalk_token": "", "dingtalk_secret": ""}),
]

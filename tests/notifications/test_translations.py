"""The channels pages (issue 25) speak zh_CN and English fully: /admin/messengers and /account/channels
(and the admin's user pages where the WeCom / DingTalk ids are set) have every string translated, and a
rendered page shows no string of the other language, refusals included."""
from __future__ import annotations

from app.auth.models import Role
from app.extensions import db
from app.notifications.models import OutboxEmail, OutboxMessage
from app.timeutil import utcnow
from tests.factories import login, make_college, make_user
from tests.factories.notifications import make_college_robot
from tests.translations_check import catalogue, chinese_in, english_left_in, msgids

FILES = (
    "app/notifications/admin.py", "app/notifications/views.py", "app/notifications/channel_admin.py",
    "app/notifications/labels.py", "app/notifications/status.py", "app/notifications/schemas.py",
    "app/org/csv_import.py", "app/org/users_admin.py",
    "templates/notifications/admin.html", "templates/notifications/channels.html",
    "templates/notifications/inbox.html", "templates/admin/user_edit.html", "templates/admin/user_new.html",
    "templates/admin/import.html",
)


def test_every_string_of_the_channel_pages_is_translated():
    missing = msgids(*FILES) - set(catalogue())
    assert not missing, f"untranslated: {sorted(missing)}"


def _pages(client, lang: str) -> dict[str, str]:
    client.post(f"/lang/{lang}", data={"next": "/"})
    college = make_college()
    user = make_user(Role.inspector, college=college)
    pages = {url: client.get(url).get_data(as_text=True)
             for url in ("/admin/messengers", "/account/channels", f"/admin/users/{user.id}", "/admin/users/new",
                         "/admin/import")}
    # Refusals: a field named by its label, in the reader's language.
    pages["robot refused"] = client.post(f"/admin/messengers/colleges/{college.id}",
                                         data={"wecom_key": "<x>"}).get_data(as_text=True)
    pages["retry refused"] = client.post("/admin/messengers/retry", data={"id": "1"}).get_data(as_text=True)
    pages["channels refused"] = client.post("/account/channels",
                                            data={"channels": ["fax"], "wecom_userid": "a b"}).get_data(as_text=True)
    pages["user refused"] = client.post(f"/admin/users/{user.id}",
                                        data={"name": "x", "wecom_userid": "a b"}).get_data(as_text=True)
    pages["test refused"] = client.post("/admin/messengers/test", data={"channel": "wecom_app"},
                                        follow_redirects=True).get_data(as_text=True)
    return pages


def test_the_pages_render_in_one_language(app, client):
    college = make_college(code="CHEM")
    make_college_robot(college, wecom_key="k1", dingtalk_token="t1", dingtalk_secret="SECs")
    now = utcnow()
    db.session.add_all([
        OutboxMessage(channel="wecom_robot", to_userid="", college_id=college.id, text="t", created_at=now,
                      attempts=8, last_error="errcode 93000"),
        OutboxMessage(channel="dingtalk_robot", to_userid="", text="t", created_at=now, attempts=1),
        OutboxEmail(to_address="a@example.edu.cn", subject="s", body="b", created_at=now, attempts=8),
    ])
    db.session.commit()
    login(client, make_user(Role.school_admin))
    app.config.update(COLLEGE_ROBOTS=True)
    for name, page in _pages(client, "zh_CN").items():
        assert not english_left_in(page), (name, english_left_in(page))
    zh = _pages(client, "zh_CN")
    assert "CHEM 的群" in zh["/admin/messengers"] and "学校的群" in zh["/admin/messengers"]
    assert "企业微信机器人 key：" in zh["robot refused"] and "我的企业微信账号" in zh["channels refused"]
    for name, page in _pages(client, "en").items():
        assert not chinese_in(page), (name, chinese_in(page))
    en = _pages(client, "en")
    assert "the group of CHEM" in en["/admin/messengers"] and "the school’s group" in en["/admin/messengers"]
    assert "WeCom robot key: " in en["robot refused"]
    # The checks see a page of the other language.
    assert len(english_left_in(en["/admin/messengers"])) > 10 and len(chinese_in(zh["/admin/messengers"])) > 10

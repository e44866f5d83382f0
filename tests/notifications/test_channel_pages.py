"""The pages of the channels (issue 25): a user chooses their own; the admin sees each channel's state,
the outbox's failed rows with their reasons, sends a test message through each channel, edits a
college's group robots."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import Role, User
from app.extensions import db
from app.notifications import services
from app.notifications.models import CollegeRobot, OutboxEmail, OutboxMessage
from tests.factories import login, make_college, make_lab, make_ticket, make_user

from .servers import DT_ROBOT_SECRET, DT_ROBOT_TOKEN, ROBOT_KEY, MessengerAPI, free_port


def test_a_user_chooses_their_channels(app, client):
    user = make_user(Role.inspector, college=make_college())
    login(client, user)
    page = client.get("/account/channels")
    assert page.status_code == 200 and 'name="wecom_userid"' in page.get_data(as_text=True)
    resp = client.post("/account/channels", data={"channels": ["wecom"], "wecom_userid": " zhang.san ",
                                                  "dingtalk_userid": ""})
    assert resp.status_code == 303
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert (saved.notify_channels, saved.wecom_userid, saved.dingtalk_userid) == ("wecom", "zhang.san", None)
    resp = client.post("/account/channels", data={"follow_site": "1", "channels": ["email"]})
    db.session.expire_all()
    assert db.session.get(User, user.id).notify_channels is None
    # Bad input: a clear 400 on the page, nothing saved.
    resp = client.post("/account/channels", data={"channels": ["fax"], "wecom_userid": "a b"})
    assert resp.status_code == 400 and ("My WeCom user id" in resp.get_data(as_text=True)
                                        or "我的企业微信账号" in resp.get_data(as_text=True))
    resp = client.post("/account/channels", data={"wecom_userid": "x" * 65})
    assert resp.status_code == 400


def test_admin_page_shows_state_failures_and_sends_tests(app, client):
    api = MessengerAPI()
    try:
        college = make_college()
        lab = make_lab(college)
        make_user(Role.lab_officer, lab=lab, email="officer@example.edu.cn")
        admin = make_user(Role.school_admin, email="admin@example.edu.cn")
        admin.wecom_userid = "admin.wecom"
        db.session.commit()
        make_ticket(lab)
        # A mail server that is not there: the row fails with its reason, shown to the admin.
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2, OUTBOX_MAX_ATTEMPTS=1)
        services.send_outbox(app.config)
        login(client, admin)
        page = client.get("/admin/messengers").get_data(as_text=True)
        assert "connect:" in page and "officer@example.edu.cn" in page
        assert "LABSAFE_WECOM_CORP_ID" in page  # WeCom not configured yet: which settings are missing
        # Configured now: a test through the WeCom app reaches the admin's id.
        app.config.update(api.config())
        resp = client.post("/admin/messengers/test", data={"channel": "wecom_app"})
        assert resp.status_code == 303
        assert [b["touser"] for b in api.of("/cgi-bin/message/send")] == ["admin.wecom"]
        page = client.get("/admin/messengers").get_data(as_text=True)
        assert "Test message sent" in page or "测试消息已发送" in page
        # DingTalk: the admin has no id there, the page says so (nothing sent).
        client.post("/admin/messengers/test", data={"channel": "dingtalk_work"})
        assert api.of("/topapi/message/corpconversation/asyncsend_v2") == []
        # A college's robots, saved and tested (signed).
        resp = client.post(f"/admin/messengers/colleges/{college.id}",
                           data={"wecom_key": ROBOT_KEY, "dingtalk_token": DT_ROBOT_TOKEN,
                                 "dingtalk_secret": DT_ROBOT_SECRET})
        assert resp.status_code == 303
        robot = db.session.get(CollegeRobot, college.id)
        assert (robot.wecom_key, robot.dingtalk_token, robot.dingtalk_secret) == (
            ROBOT_KEY, DT_ROBOT_TOKEN, DT_ROBOT_SECRET)
        client.post(f"/admin/messengers/colleges/{college.id}",  # the secret left empty is kept
                    data={"wecom_key": ROBOT_KEY, "dingtalk_token": DT_ROBOT_TOKEN, "dingtalk_secret": ""})
        db.session.expire_all()
        assert db.session.get(CollegeRobot, college.id).dingtalk_secret == DT_ROBOT_SECRET
        for channel in ("wecom_robot", "dingtalk_robot"):
            client.post("/admin/messengers/test", data={"channel": channel, "college_id": college.id})
        assert len(api.of("/robot/send")) == 1 and len(api.of("/cgi-bin/webhook/send")) == 1
        # The tests are recorded: last success per channel.
        db.session.expire_all()
        sent = db.session.scalars(select(OutboxMessage.channel).where(OutboxMessage.sent_at.is_not(None))).all()
        assert sorted(sent) == ["dingtalk_robot", "wecom_app", "wecom_robot"]
        # Bad input is a 400 page; an unknown college a 404 page.
        assert client.post("/admin/messengers/test", data={"channel": "pigeon"}).status_code == 400
        assert client.post("/admin/messengers/colleges/999999", data={}).status_code == 404
        assert client.post(f"/admin/messengers/colleges/{college.id}",
                           data={"wecom_key": "<script>"}).status_code == 400
        # The failed e-mail is sent again at the next run once the admin asks.
        assert client.post("/admin/messengers/retry").status_code == 303
        db.session.expire_all()
        assert all(r.attempts == 0 for r in db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.sent_at.is_(None))))
        # Nothing typed keeps them; removing the robots is ticking "remove".
        client.post(f"/admin/messengers/colleges/{college.id}", data={})
        db.session.expire_all()
        assert db.session.get(CollegeRobot, college.id).wecom_key == ROBOT_KEY
        client.post(f"/admin/messengers/colleges/{college.id}", data={"remove_wecom": "1", "remove_dingtalk": "1"})
        db.session.expire_all()
        assert db.session.get(CollegeRobot, college.id) is None
    finally:
        api.stop()


def test_admin_page_statements_do_not_grow_with_the_outbox(app, client):
    from sqlalchemy import event

    admin = make_user(Role.school_admin)
    lab = make_lab(make_college())
    login(client, admin)

    def count():
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/admin/messengers").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    make_user(Role.lab_officer, lab=lab)
    make_ticket(lab)
    small = count()
    for _ in range(5):
        make_ticket(lab)
    assert count() == small


def test_admin_test_mail_goes_through_the_mail_server(app, client, tmp_path):
    from .servers import PASSWORD, USER, SMTPServer, self_signed_cert

    cert = self_signed_cert(tmp_path)
    server = SMTPServer("starttls", cert)
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_SECURITY="starttls", SMTP_USER=USER,
                          SMTP_PASSWORD=PASSWORD, SMTP_CA_FILE=str(cert[0]))
        admin = make_user(Role.school_admin, email="admin@example.edu.cn")
        login(client, admin)
        assert client.post("/admin/messengers/test", data={"channel": "email"}).status_code == 303
        [got] = server.messages
        assert got["rcpt"] == ["admin@example.edu.cn"] and got["tls"] and got["authenticated"]
        # A password that would travel in clear: refused, said on the page, recorded as the channel's last error.
        app.config.update(SMTP_SECURITY="none")
        client.post("/admin/messengers/test", data={"channel": "email"})
        page = client.get("/admin/messengers").get_data(as_text=True)
        assert "without TLS" in page and len(server.messages) == 1
    finally:
        server.stop()


def test_robot_keys_and_secrets_are_never_shown_back(app, client):
    """The WeCom key, the DingTalk token and its secret let anyone post to the group: the page says "set"
    and never puts them in the HTML; an empty field keeps the stored value, a typed one replaces it."""
    college = make_college()
    key, token, secret = "wk-" + "a" * 30, "dt-" + "b" * 30, "SEC" + "c" * 30
    login(client, make_user(Role.school_admin))
    assert "secret-state" in client.get("/admin/messengers").get_data(as_text=True)
    client.post(f"/admin/messengers/colleges/{college.id}",
                data={"wecom_key": key, "dingtalk_token": token, "dingtalk_secret": secret})
    page = client.get("/admin/messengers").get_data(as_text=True)
    for value in (key, token, secret):
        assert value not in page
    assert page.count('name="remove_wecom"') == 1 and page.count('name="remove_dingtalk"') == 1
    # Only the DingTalk token replaced: the key and the secret stay.
    client.post(f"/admin/messengers/colleges/{college.id}",
                data={"wecom_key": "", "dingtalk_token": "dt-new", "dingtalk_secret": ""})
    db.session.expire_all()
    robot = db.session.get(CollegeRobot, college.id)
    assert (robot.wecom_key, robot.dingtalk_token, robot.dingtalk_secret) == (key, "dt-new", secret)
    # Removing the DingTalk robot removes its secret too; the WeCom robot stays.
    client.post(f"/admin/messengers/colleges/{college.id}", data={"remove_dingtalk": "1"})
    db.session.expire_all()
    robot = db.session.get(CollegeRobot, college.id)
    assert (robot.wecom_key, robot.dingtalk_token, robot.dingtalk_secret) == (key, None, None)


def _message(attempts: int, **kw) -> OutboxMessage:
    from app.timeutil import utcnow

    row = OutboxMessage(channel="wecom_app", to_userid=kw.pop("to", "zhang.san"), text="notice\nbody",
                        created_at=utcnow(), attempts=attempts, last_error="errcode 60020", **kw)
    db.session.add(row)
    db.session.commit()
    return row


def test_send_again_resets_the_failed_rows_only_or_the_one_chosen(app, client):
    from datetime import timedelta

    from app.timeutil import utcnow

    app.config.update(OUTBOX_MAX_ATTEMPTS=3)
    later = utcnow() + timedelta(hours=1)
    failed = _message(3, to="failed.one")
    waiting = _message(1, to="waiting.one", next_attempt_at=later)
    other_failed = _message(3, to="failed.two")
    mail_failed = OutboxEmail(to_address="x@example.edu.cn", subject="s", body="b", created_at=utcnow(), attempts=3)
    db.session.add(mail_failed)
    db.session.commit()
    login(client, make_user(Role.school_admin))

    def state(row):
        db.session.expire_all()
        row = db.session.get(type(row), row.id)
        return row.attempts, row.next_attempt_at

    # One chosen row: only that one (even a waiting one: due at the next run).
    assert client.post("/admin/messengers/retry", data={"kind": "message", "id": waiting.id}).status_code == 303
    assert state(waiting) == (0, None) and state(failed)[0] == 3 and state(other_failed)[0] == 3
    row = db.session.get(OutboxMessage, waiting.id)
    row.attempts, row.next_attempt_at = 1, later  # waiting again
    db.session.commit()
    # Every failed one: the failed rows of both outboxes; the waiting row keeps its schedule.
    resp = client.post("/admin/messengers/retry", follow_redirects=True)
    assert "3" in resp.get_data(as_text=True)
    assert state(failed) == (0, None) and state(other_failed) == (0, None) and state(mail_failed)[0] == 0
    assert state(waiting)[0] == 1 and state(waiting)[1] is not None
    # A row sent meanwhile, an unknown one, half a choice, a bad kind: clear 4xx pages, nothing changed.
    sent = _message(0, to="sent.one", sent_at=utcnow())
    assert client.post("/admin/messengers/retry", data={"kind": "message", "id": sent.id}).status_code == 404
    assert client.post("/admin/messengers/retry", data={"kind": "email", "id": 999999}).status_code == 404
    assert client.post("/admin/messengers/retry", data={"id": failed.id}).status_code == 400
    assert client.post("/admin/messengers/retry", data={"kind": "fax", "id": 1}).status_code == 400
    assert client.post("/admin/messengers/retry", data={"kind": "email", "id": "x"}).status_code == 400
    # The page offers a button per row, and names a robot's group in the reader's language.
    _message(3, to="", college_id=make_college(code="CHEM").id)
    page = client.get("/admin/messengers?lang=en").get_data(as_text=True)
    assert page.count("Send this one again") == 5 and "the group of CHEM" in page

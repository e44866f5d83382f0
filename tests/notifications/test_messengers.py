"""WeCom (企业微信) and DingTalk (issue 25), against an HTTP server started by the tests on 127.0.0.1 that
checks each request's shape, token and signature as those APIs document them, and answers their errors
(a rate limit, an invalid or expired token): retried and recorded. Messages go through the same outbox
as e-mail: written in the notice's transaction, sent by `flask send-mail`, recorded once."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.auth.models import Role
from app.extensions import db
from app.notifications import messengers, services
from app.notifications.models import (
    DINGTALK_ROBOT,
    DINGTALK_WORK,
    WECOM_APP,
    WECOM_ROBOT,
    CollegeRobot,
    MessengerToken,
    OutboxEmail,
    OutboxMessage,
)
from app.timeutil import utcnow
from tests.factories import (
    backdate_lab,
    make_college,
    make_college_robot,
    make_lab,
    make_ticket,
    make_user,
    set_channels,
)

from .servers import DT_ROBOT_SECRET, DT_ROBOT_TOKEN, ROBOT_KEY, MessengerAPI

WECOM_SEND = "/cgi-bin/message/send"
DING_SEND = "/topapi/message/corpconversation/asyncsend_v2"


@pytest.fixture
def api(app):
    server = MessengerAPI()
    app.config.update(server.config())
    yield server
    server.stop()


def _officer(lab):
    return make_user(Role.lab_officer, lab=lab, email="officer@example.edu.cn")


def _messages(channel=None):
    db.session.expire_all()
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if channel:
        stmt = stmt.where(OutboxMessage.channel == channel)
    return db.session.scalars(stmt).all()


def test_wecom_and_dingtalk_app_messages_through_the_outbox(app, runner, api):
    lab = make_lab(make_college())
    officer = _officer(lab)
    set_channels(officer, wecom="zhangsan", dingtalk="manager4220")
    ticket = make_ticket(lab)
    # Written with the notice, nothing sent yet.
    assert api.sent == []
    rows = _messages()
    assert sorted(r.channel for r in rows) == [DINGTALK_WORK, WECOM_APP]
    assert {r.to_userid for r in rows} == {"zhangsan", "manager4220"}
    assert all(ticket.title in r.text and r.text.startswith("[LabSafe]") for r in rows)
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert '"messengers": {"sent": 2' in result.output
    [wecom] = api.of(WECOM_SEND)
    assert wecom["touser"] == "zhangsan" and wecom["msgtype"] == "text" and ticket.title in wecom["text"]["content"]
    [ding] = api.of(DING_SEND)
    assert ding["userid_list"] == "manager4220" and ding["msg"]["msgtype"] == "text"
    assert all(r.sent_at is not None and r.attempts == 1 and r.last_error is None for r in _messages())
    # Recorded once: another run sends nothing again; the token was asked for once per API and kept.
    assert services.send_outbox(app.config)["messengers"]["sent"] == 0
    make_ticket(lab, title="第二个隐患")
    assert services.send_outbox(app.config)["messengers"]["sent"] == 2
    assert api.calls.count("/cgi-bin/gettoken") == 1 and api.calls.count("/gettoken") == 1
    assert db.session.scalar(select(func.count()).select_from(MessengerToken)) == 2


def test_an_expired_token_is_renewed_and_the_message_sent(app, api):
    lab = make_lab(make_college())
    set_channels(_officer(lab), wecom="zhangsan", dingtalk="lisi")
    make_ticket(lab)
    assert services.send_outbox(app.config)["messengers"]["sent"] == 2
    api.expire()  # both APIs now answer 42001 / 40014 to the kept tokens
    make_ticket(lab, title="过期令牌")
    assert services.send_outbox(app.config)["messengers"]["sent"] == 2
    assert {(p, code) for p, code, _ in api.refused} == {(WECOM_SEND, 42001), (DING_SEND, 40014)}
    assert api.calls.count("/cgi-bin/gettoken") == 2 and api.calls.count("/gettoken") == 2
    assert all(r.sent_at and r.attempts == 1 for r in _messages())


def test_a_rate_limit_is_recorded_retried_after_the_backoff_and_holds_the_channel(app, api):
    lab = make_lab(make_college())
    officers = [_officer(lab) for _ in range(3)]
    for n, o in enumerate(officers):
        set_channels(o, wecom=f"user{n}")
    make_ticket(lab)
    app.config.update(OUTBOX_RETRY_SECONDS=60)
    api.fail[WECOM_SEND] = [45009]
    result = services.send_outbox(app.config)["messengers"]
    assert result == {"sent": 0, "failed": 1, "deferred": 2}  # the channel waits for the next run
    first, *others = _messages(WECOM_APP)
    assert first.attempts == 1 and "45009" in first.last_error and first.sent_at is None
    assert first.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert all(o.attempts == 0 and o.last_error is None for o in others)
    # The next run sends the others; the limited one waits for its retry time, then goes.
    assert services.send_outbox(app.config)["messengers"]["sent"] == 2
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert services.send_outbox(app.config)["messengers"]["sent"] == 1
    row = _messages(WECOM_APP)[0]
    assert row.sent_at and row.attempts == 2 and row.last_error is None
    assert sorted(b["touser"] for b in api.of(WECOM_SEND)) == ["user0", "user1", "user2"]


def test_a_token_refused_twice_is_recorded(app, api):
    lab = make_lab(make_college())
    set_channels(_officer(lab), dingtalk="lisi")
    make_ticket(lab)
    api.fail[DING_SEND] = [40014, 40014]
    assert services.send_outbox(app.config)["messengers"]["failed"] == 1
    row = _messages(DINGTALK_WORK)[0]
    assert row.attempts == 1 and "40014" in row.last_error and row.next_attempt_at is not None


def test_group_robots_site_and_college_signed(app, api):
    """The site's robots (settings) and the college's (its row) hear of each event once, however many
    officers; DingTalk's robot is signed as DingTalk documents (the server checks it)."""
    college = make_college()
    lab = make_lab(college)
    _officer(lab), _officer(lab)
    make_college_robot(college, wecom_key=ROBOT_KEY, dingtalk_token=DT_ROBOT_TOKEN, dingtalk_secret=DT_ROBOT_SECRET)
    app.config.update(WECOM_ROBOT_KEY=ROBOT_KEY, DINGTALK_ROBOT_TOKEN=DT_ROBOT_TOKEN,
                      DINGTALK_ROBOT_SECRET=DT_ROBOT_SECRET, COLLEGE_ROBOTS=True)
    ticket = make_ticket(lab)
    rows = _messages()
    assert sorted((r.channel, r.college_id or 0) for r in rows) == sorted(
        [(WECOM_ROBOT, 0), (DINGTALK_ROBOT, 0), (WECOM_ROBOT, college.id), (DINGTALK_ROBOT, college.id)])
    assert services.send_outbox(app.config)["messengers"] == {"sent": 4, "failed": 0, "deferred": 0}
    assert len(api.of("/robot/send")) == 2 and len(api.of("/cgi-bin/webhook/send")) == 2
    assert all(ticket.title in b["text"]["content"] for _, b in api.sent)
    # A wrong secret: DingTalk refuses the signature (310000), recorded on the row.
    db.session.execute(update(CollegeRobot).values(dingtalk_secret="SECwrong"))
    db.session.commit()
    make_ticket(lab, title="签名错误")
    assert services.send_outbox(app.config)["messengers"]["failed"] == 1
    failed = [r for r in _messages(DINGTALK_ROBOT) if r.sent_at is None]
    assert len(failed) == 1 and "310000" in failed[0].last_error and "sign not match" in failed[0].last_error


def test_without_college_robots_setting_no_statement_and_no_college_row(app, api):
    college = make_college()
    lab = make_lab(college)
    _officer(lab)
    make_college_robot(college, wecom_key=ROBOT_KEY)
    make_ticket(lab)
    assert _messages() == []


def test_dingtalk_robot_signature():
    # DingTalk's documented example shape: base64 of a 32-byte HMAC, url-encoded.
    sign = messengers.dingtalk_sign("SEC000", 1577262236757)
    assert "%" in sign or sign.isalnum()
    import base64
    import hashlib
    import hmac
    import urllib.parse

    raw = hmac.new(b"SEC000", b"1577262236757\nSEC000", hashlib.sha256).digest()
    assert urllib.parse.unquote_plus(sign) == base64.b64encode(raw).decode()


def test_each_user_chooses_their_channels_default_follows_the_site(app, api):
    lab = make_lab(make_college())
    follows = _officer(lab)
    set_channels(follows, wecom="a", dingtalk="b")  # NULL: the site's NOTIFY_CHANNELS
    only_wecom = _officer(lab)
    set_channels(only_wecom, wecom="c", dingtalk="d", channels="wecom")
    in_app_only = _officer(lab)
    set_channels(in_app_only, wecom="e", dingtalk="f", channels="")
    app.config.update(NOTIFY_CHANNELS="email,dingtalk")
    make_ticket(lab)
    got = {(r.channel, r.to_userid) for r in _messages()}
    assert got == {(DINGTALK_WORK, "b"), (WECOM_APP, "c")}
    mails = db.session.scalars(select(OutboxEmail.notification_id)).all()
    assert len(mails) == 1  # only the one who follows the site's e-mail


def test_the_nightly_job_queues_messages_with_its_notices(app, runner, api):
    college = make_college()
    lab = make_lab(college)
    backdate_lab(lab, datetime(2020, 1, 1))
    officer = _officer(lab)
    set_channels(officer, wecom="zhangsan", dingtalk="lisi")
    app.config.update(WECOM_ROBOT_KEY=ROBOT_KEY)
    result = runner.invoke(args=["nightly", "--date", "2026-05-04", "--no-mail"])
    assert result.exit_code == 0, result.output
    rows = _messages()
    assert sorted((r.channel, r.to_userid) for r in rows) == [
        (DINGTALK_WORK, "lisi"), (WECOM_APP, "zhangsan"), (WECOM_ROBOT, "")]
    assert services.send_outbox(app.config)["messengers"]["sent"] == 3
    assert runner.invoke(args=["nightly", "--date", "2026-05-04"]).exit_code == 0
    assert len(_messages()) == 3  # the day is done: nothing queued twice


def test_unreachable_api_is_recorded(app):
    from .servers import free_port

    app.config.update(WECOM_API_BASE=f"http://127.0.0.1:{free_port()}", WECOM_CORP_ID="c", WECOM_CORP_SECRET="s",
                      WECOM_AGENT_ID="1", MESSENGER_TIMEOUT=2)
    lab = make_lab(make_college())
    set_channels(_officer(lab), wecom="zhangsan")
    make_ticket(lab)
    assert services.send_outbox(app.config)["messengers"]["failed"] == 1
    row = _messages()[0]
    assert row.attempts == 1 and row.last_error and row.next_attempt_at


def test_the_nightly_outbox_is_set_based_with_messengers_on(app, api):
    """With WeCom, DingTalk, site and college robots on, the night's statements do not grow with the labs."""
    from app.auth.models import User
    from tests.jobs.test_nightly import D, _bulk_labs, _count_statements, cfg

    config = {**cfg(), **api.config(), "WECOM_ROBOT_KEY": ROBOT_KEY, "COLLEGE_ROBOTS": True}
    small, large = make_college(), make_college()
    for college in (small, large):
        make_college_robot(college, wecom_key=ROBOT_KEY)

    def with_ids():
        db.session.execute(update(User).values(wecom_userid=User.username, dingtalk_userid=User.username))
        db.session.commit()

    _bulk_labs(small, 10)
    with_ids()
    n_small, _ = _count_statements(D("2026-03-01"), config)
    _bulk_labs(large, 90)
    with_ids()
    n_large, _ = _count_statements(D("2026-03-02"), config)
    assert n_small == n_large
    sent_to = db.session.scalars(select(OutboxMessage.to_userid).where(OutboxMessage.channel == WECOM_APP)).all()
    assert len(sent_to) >= 100
    robots = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.channel == WECOM_ROBOT, OutboxMessage.college_id == large.id))
    assert robots >= 90  # one per event (each lab's miss, each ticket's escalation), not per recipient

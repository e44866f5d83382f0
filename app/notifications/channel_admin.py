"""Changing the channels (issue 25): a user's own choice and ids, a college's group robots, and the admin's
test message through one channel. Plain arguments; the views ask the policy first."""
from __future__ import annotations

import smtplib

from sqlalchemy import select

from app.auth.models import User
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.language import N_, translated
from app.org.models import College
from app.timeutil import utcnow

from . import channels, mail, messengers
from .mail import record_failure, record_success
from .models import DINGTALK_ROBOT, DINGTALK_WORK, WECOM_APP, WECOM_ROBOT, CollegeRobot, OutboxEmail, OutboxMessage


def save_channels(user_id: int, *, follow_site: bool, chosen: list[str], wecom_userid: str,
                  dingtalk_userid: str) -> User:
    """A user's channels (NULL: the site's default) and their WeCom / DingTalk ids (empty: none). Commits."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    user.notify_channels = None if follow_site else channels.store_choice(chosen)
    user.wecom_userid = wecom_userid.strip() or None
    user.dingtalk_userid = dingtalk_userid.strip() or None
    db.session.commit()
    return user


def college_robots() -> list[tuple[College, CollegeRobot | None]]:
    """Every college with its robots (None: none), by code: one statement."""
    rows = db.session.execute(select(College, CollegeRobot)
                              .outerjoin(CollegeRobot, CollegeRobot.college_id == College.id).order_by(College.code))
    return [(college, robot) for college, robot in rows]


def save_college_robot(college_id: int, *, wecom_key: str, dingtalk_token: str, dingtalk_secret: str,
                       remove_wecom: bool = False, remove_dingtalk: bool = False) -> College:
    """A college's robots. The WeCom key, the DingTalk token and its secret all work as secrets (whoever has
    one can post to the group), so the page never shows them back: a value typed replaces the stored one, a
    field left empty keeps it; ``remove_wecom`` / ``remove_dingtalk`` remove that robot (the DingTalk token
    with its secret). A college left with no robot loses its row. Commits."""
    college = db.session.get(College, college_id)
    if college is None:
        raise NotFound("No such college.")
    robot = db.session.get(CollegeRobot, college_id)
    if robot is None:
        robot = CollegeRobot(college_id=college_id)
        db.session.add(robot)
    if wecom_key.strip():
        robot.wecom_key = wecom_key.strip()
    if dingtalk_token.strip():
        robot.dingtalk_token = dingtalk_token.strip()
    if dingtalk_secret.strip():
        robot.dingtalk_secret = dingtalk_secret.strip()
    if remove_wecom:
        robot.wecom_key = None
    if remove_dingtalk or not robot.dingtalk_token:
        robot.dingtalk_token = robot.dingtalk_secret = None
    robot.updated_at = utcnow()
    if not robot.wecom_key and not robot.dingtalk_token:
        db.session.delete(robot)
    db.session.commit()
    return college


class TestFailed(InvalidInput):
    """The test message was not sent: the page says why (also recorded on its outbox row)."""


def send_test(channel: str, admin_id: int, config: dict, *, college_id: int | None = None,
              locale: str | None = None) -> str:
    """One test message to the admin through ``channel``, written to the outbox and sent at once, so the
    channel's last success or last error on the page is this one. Returns where it went; raises TestFailed."""
    admin = db.session.get(User, admin_id)
    text = translated(N_("LabSafe test message: if you read this, notices reach you through this channel."), locale)
    now = utcnow()
    if channel == "email":
        if not admin.email:
            raise TestFailed(translated(N_("Your account has no e-mail address."), locale))
        if not config.get("SMTP_HOST"):
            raise TestFailed(translated(N_("LABSAFE_SMTP_HOST is not set."), locale))
        row = OutboxEmail(to_address=admin.email, subject="[LabSafe] " + text[:200], body=text, created_at=now,
                          attempts=0)
        db.session.add(row)
        db.session.flush()
        try:
            smtp = mail.connect(config)
            try:
                smtp.send_message(mail.build_message(row, config))
            finally:
                smtp.close()
        except (OSError, smtplib.SMTPException, mail.MailSettingsRefused) as exc:
            return _failed(row, f"{type(exc).__name__}: {exc}", config, now)
        return _sent(row, admin.email)
    if channel in (WECOM_APP, DINGTALK_WORK):
        userid = admin.wecom_userid if channel == WECOM_APP else admin.dingtalk_userid
        if not userid:
            raise TestFailed(translated(
                N_("Your account has no user id for this messenger (set it on your channels page)."), locale))
        row = OutboxMessage(channel=channel, to_userid=userid, text=text, created_at=now, attempts=0)
        where = userid
    elif channel in (WECOM_ROBOT, DINGTALK_ROBOT):
        row = OutboxMessage(channel=channel, to_userid="", college_id=college_id, text=text, created_at=now,
                            attempts=0)
        college = db.session.get(College, college_id) if college_id else None
        where = (translated(N_("the group of %(college)s"), locale, college=college.code) if college
                 else translated(N_("the school’s group"), locale))
    else:
        raise TestFailed(translated(N_("Unknown channel."), locale))
    db.session.add(row)
    db.session.flush()
    robots = {}
    if college_id is not None:
        robot = db.session.get(CollegeRobot, college_id)
        robots = {college_id: robot} if robot else {}
    try:
        messengers.deliver(row, config, robots)
    except messengers.MessengerError as exc:
        return _failed(row, str(exc), config, now)
    return _sent(row, where)


def _sent(row, where: str) -> str:
    record_success(row)
    db.session.commit()
    return where


def _failed(row, error: str, config: dict, now) -> str:
    record_failure(row, error, config, now)
    row.attempts = int(config.get("OUTBOX_MAX_ATTEMPTS", 8))  # a test is not sent again by the outbox
    db.session.commit()
    raise TestFailed(error)

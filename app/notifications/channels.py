"""Which channels a notice goes through (issue 25): in-app always; e-mail, WeCom (企业微信) and DingTalk as
the user chose (``users.notify_channels``; NULL follows the site's ``NOTIFY_CHANNELS``), where the site has
configured them and the user has an address / id there; and the group robots of the notice's college and
of the site. The rows are written in the notice's transaction (a transactional outbox); ``messengers``
sends them."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select

from app.extensions import db
from app.org.models import Lab

from .models import DINGTALK_ROBOT, DINGTALK_WORK, WECOM_APP, WECOM_ROBOT, CollegeRobot, OutboxMessage

EMAIL, WECOM, DINGTALK = "email", "wecom", "dingtalk"
USER_CHANNELS = (EMAIL, WECOM, DINGTALK)

# The settings each channel needs (README "Mail, WeCom and DingTalk").
REQUIRED_SETTINGS = {
    EMAIL: ("SMTP_HOST",),
    WECOM_APP: ("WECOM_CORP_ID", "WECOM_CORP_SECRET", "WECOM_AGENT_ID"),
    WECOM_ROBOT: ("WECOM_ROBOT_KEY",),
    DINGTALK_WORK: ("DINGTALK_APP_KEY", "DINGTALK_APP_SECRET", "DINGTALK_AGENT_ID"),
    DINGTALK_ROBOT: ("DINGTALK_ROBOT_TOKEN",),
}


def missing_settings(config: dict, channel: str) -> list[str]:
    return [name for name in REQUIRED_SETTINGS[channel] if not config.get(name)]


def configured(config: dict, channel: str) -> bool:
    return not missing_settings(config, channel)


def parse_channels(text: str | None) -> frozenset[str]:
    """"email,wecom" -> {"email", "wecom"}; unknown names are left out."""
    return frozenset(c.strip() for c in (text or "").split(",") if c.strip() in USER_CHANNELS)


def chosen(stored: str | None, config: dict) -> frozenset[str]:
    """A user's channels: their choice when they made one (even none), else the site's default."""
    return parse_channels(stored if stored is not None else config.get("NOTIFY_CHANNELS", ",".join(USER_CHANNELS)))


def store_choice(channels: Iterable[str]) -> str:
    """The stored form of a choice, in a fixed order ("" when every channel but in-app is off)."""
    picked = set(channels)
    return ",".join(c for c in USER_CHANNELS if c in picked)


def wants_email(stored: str | None, config: dict) -> bool:
    return EMAIL in chosen(stored, config)


def messenger_rows(notification_id: int, *, wecom_userid: str | None, dingtalk_userid: str | None,
                   stored_choice: str | None, text: str, config: dict, now: datetime) -> list[dict]:
    """The user's app messages for one notice: WeCom and DingTalk where chosen, configured and the user has an id."""
    picked = chosen(stored_choice, config)
    rows = []
    for channel, choice, userid in ((WECOM_APP, WECOM, wecom_userid), (DINGTALK_WORK, DINGTALK, dingtalk_userid)):
        if choice in picked and userid and configured(config, channel):
            rows.append(_row(notification_id, channel, text, now, to_userid=userid))
    return rows


def robot_rows(notification_id: int, college_robots: CollegeRobotsRow | None, text: str, config: dict,
               now: datetime) -> list[dict]:
    """The group robots' messages for one event: the site's robots (settings) and its college's."""
    rows = [_row(notification_id, channel, text, now) for channel in (WECOM_ROBOT, DINGTALK_ROBOT)
            if configured(config, channel)]
    if college_robots is not None:
        college_id, wecom_key, dingtalk_token = college_robots
        if wecom_key:
            rows.append(_row(notification_id, WECOM_ROBOT, text, now, college_id=college_id))
        if dingtalk_token:
            rows.append(_row(notification_id, DINGTALK_ROBOT, text, now, college_id=college_id))
    return rows


CollegeRobotsRow = tuple  # (college id, WeCom robot key, DingTalk robot token)


def college_robots_of_lab(lab_id: int | None, config: dict) -> CollegeRobotsRow | None:
    """The robots of a lab's college: one SELECT, only when the site posts to its colleges' groups
    (``COLLEGE_ROBOTS``), so a site without them spends no statement on them."""
    if lab_id is None or not config.get("COLLEGE_ROBOTS"):
        return None
    return db.session.execute(
        select(CollegeRobot.college_id, CollegeRobot.wecom_key, CollegeRobot.dingtalk_token)
        .join(Lab, Lab.college_id == CollegeRobot.college_id).where(Lab.id == lab_id)
    ).first()


def college_robot_columns(config: dict):
    """The columns ``college_robots_of_lab`` reads, for a SELECT that outer-joins CollegeRobot on the lab's
    college (the nightly job's notices), or None when the site posts to no college group."""
    if not config.get("COLLEGE_ROBOTS"):
        return None
    return (CollegeRobot.college_id, CollegeRobot.wecom_key, CollegeRobot.dingtalk_token)


def _row(notification_id, channel, text, now, *, to_userid="", college_id=None) -> dict:
    return {"notification_id": notification_id, "channel": channel, "to_userid": to_userid,
            "college_id": college_id, "text": text, "created_at": now, "attempts": 0}


def insert_messages(rows: list[dict]) -> None:
    """One multi-row INSERT (none when there is nothing to send)."""
    if rows:
        db.session.execute(insert(OutboxMessage.__table__), rows)


def message_text(subject: str, body: str) -> str:
    """What an app message or a robot says: the e-mail's subject and text (title, body, link)."""
    return f"{subject}\n\n{body}"[:2000]

"""Notice channels (issue 25): a user's messenger ids and chosen channels, a college's group robots."""
from __future__ import annotations

from app.extensions import db
from app.notifications.models import CollegeRobot


def set_channels(user, *, wecom: str | None = None, dingtalk: str | None = None, channels: str | None = None):
    """The user's WeCom and DingTalk ids and their choice ("email,wecom"...; None: the site's default). Commits."""
    user.wecom_userid, user.dingtalk_userid, user.notify_channels = wecom, dingtalk, channels
    db.session.commit()
    return user


def make_college_robot(college, *, wecom_key=None, dingtalk_token=None, dingtalk_secret=None) -> CollegeRobot:
    robot = CollegeRobot(college_id=getattr(college, "id", college), wecom_key=wecom_key,
                         dingtalk_token=dingtalk_token, dingtalk_secret=dingtalk_secret)
    db.session.add(robot)
    db.session.commit()
    return robot

"""What the admin's channels page shows (issue 25): each channel's configuration (the settings it still
misses), its queue (waiting, failed for good), its last success and its last error; and the outbox rows
that wait or failed, with their reasons."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, update

from app.extensions import db
from app.org.models import College

from . import channels
from .models import (
    DINGTALK_ROBOT,
    DINGTALK_WORK,
    WECOM_APP,
    WECOM_ROBOT,
    CollegeRobot,
    OutboxEmail,
    OutboxMessage,
)

CHANNELS = ("email", WECOM_APP, WECOM_ROBOT, DINGTALK_WORK, DINGTALK_ROBOT)


@dataclass(frozen=True)
class ChannelState:
    channel: str
    missing: list[str]  # settings still unset (LABSAFE_...)
    college_robots: int  # colleges with a robot of this channel (robots only)
    waiting: int
    failed: int  # attempts used up: stays in the outbox until the admin sends it again
    last_sent: datetime | None
    last_error: str | None
    last_error_at: datetime | None

    @property
    def configured(self) -> bool:
        return not self.missing or self.college_robots > 0


def _per_channel(model, channel_column, max_attempts: int) -> dict[str, tuple]:
    """(waiting, failed, last sent) per channel: one statement."""
    unsent = model.sent_at.is_(None)
    stmt = select(channel_column, func.count().filter(unsent, model.attempts < max_attempts),
                  func.count().filter(unsent, model.attempts >= max_attempts), func.max(model.sent_at))
    if channel_column is not None:
        stmt = stmt.group_by(channel_column)
    return {row[0]: row[1:] for row in db.session.execute(stmt)}


def _latest_errors(model, channel_column) -> dict[str, tuple]:
    """The newest error per channel (the failed row with the highest id) and when it was tried: one statement."""
    newest = (select(channel_column.label("channel"), func.max(model.id).label("id"))
              .where(model.last_error.is_not(None), model.sent_at.is_(None)).group_by(channel_column).subquery())
    rows = db.session.execute(select(newest.c.channel, model.last_error, model.next_attempt_at)
                              .join(newest, newest.c.id == model.id))
    return {channel: (error, retry) for channel, error, retry in rows}


def channel_states(config: dict) -> list[ChannelState]:
    """Every channel's state, in a fixed number of statements (five) whatever the outbox holds."""
    max_attempts = int(config.get("OUTBOX_MAX_ATTEMPTS", 8))
    mail_channel = literal("email")
    counts = _per_channel(OutboxEmail, mail_channel, max_attempts)
    counts.update(_per_channel(OutboxMessage, OutboxMessage.channel, max_attempts))
    errors = _latest_errors(OutboxEmail, mail_channel)
    errors.update(_latest_errors(OutboxMessage, OutboxMessage.channel))
    robots = db.session.execute(
        select(func.count(CollegeRobot.wecom_key), func.count(CollegeRobot.dingtalk_token))).one()
    out = []
    for channel in CHANNELS:
        waiting, failed, last_sent = counts.get(channel, (0, 0, None))
        error, error_at = errors.get(channel, (None, None))
        college = robots[0] if channel == WECOM_ROBOT else robots[1] if channel == DINGTALK_ROBOT else 0
        out.append(ChannelState(channel, ["LABSAFE_" + m for m in channels.missing_settings(config, channel)],
                                college if config.get("COLLEGE_ROBOTS") else 0, waiting or 0, failed or 0,
                                last_sent, error, error_at))
    return out


@dataclass(frozen=True)
class PendingRow:
    kind: str  # "email" or a messenger channel
    id: int
    to: str
    subject: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    group: str | None = None  # a robot's message: "" the site's group, else its college's code (to is "")


def pending(limit: int = 200) -> list[PendingRow]:
    """The rows not sent yet, newest first: e-mails and messages (two statements)."""
    mails = db.session.execute(
        select(OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.created_at,
               OutboxEmail.attempts, OutboxEmail.next_attempt_at, OutboxEmail.last_error)
        .where(OutboxEmail.sent_at.is_(None)).order_by(OutboxEmail.id.desc()).limit(limit))
    messages = db.session.execute(
        select(OutboxMessage.channel, OutboxMessage.id, OutboxMessage.to_userid, College.code,
               OutboxMessage.text, OutboxMessage.created_at, OutboxMessage.attempts, OutboxMessage.next_attempt_at,
               OutboxMessage.last_error)
        .outerjoin(College, College.id == OutboxMessage.college_id)
        .where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id.desc()).limit(limit))
    rows = [PendingRow("email", i, to, subject, created, attempts, retry, error)
            for i, to, subject, created, attempts, retry, error in mails]
    for channel, i, userid, college_code, text, created, attempts, retry, error in messages:
        group = None if userid else (college_code or "")  # the page names the group in the reader's language
        rows.append(PendingRow(channel, i, userid, text.split("\n", 1)[0], created, attempts, retry, error, group))
    rows.sort(key=lambda r: r.created_at, reverse=True)
    return rows[:limit]


RETRY_KINDS = {"email": OutboxEmail, "message": OutboxMessage}


def retry_failed(max_attempts: int, *, kind: str | None = None, row_id: int | None = None) -> int:
    """The failed rows (attempts used up) get a fresh set, due at the next run (after the admin mended the
    settings); the rows still waiting keep their schedule. With ``kind`` ("email" or "message") and
    ``row_id``: that one unsent row, failed or waiting. One UPDATE per outbox table; returns the rows reset."""
    if row_id is not None:
        model = RETRY_KINDS[kind]
        res = db.session.execute(update(model).where(model.id == row_id, model.sent_at.is_(None))
                                 .values(attempts=0, next_attempt_at=None))
        return res.rowcount or 0
    n = 0
    for model in RETRY_KINDS.values():
        res = db.session.execute(update(model).where(model.sent_at.is_(None), model.attempts >= max_attempts)
                                 .values(attempts=0, next_attempt_at=None))
        n += res.rowcount or 0
    return n

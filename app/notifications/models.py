"""In-app inbox and e-mail outbox. Sending never blocks the request that caused it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

# JSONB on PostgreSQL: json has no equality operator, and the nightly job writes these with SELECT DISTINCT.
JSON_FACTS = JSON().with_variant(JSONB(), "postgresql")


class Notification(db.Model):
    __tablename__ = "notifications"
    # dedupe_key makes the nightly job's notices idempotent (one per user per fact).
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Shown when params is None (notices written before titles were rendered per reader); else a
    # plain rendering kept for whoever reads the table directly.
    title: Mapped[str] = mapped_column(String(300))
    # The facts the title is rendered from, in the reader's language (services.notice_title); the
    # lab and the ticket are read through lab_id and ticket_id.
    params: Mapped[dict | None] = mapped_column(JSON_FACTS)
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_tickets.id"))
    lab_id: Mapped[int | None] = mapped_column(ForeignKey("labs.id"))
    # Indexed: the nightly job queues the e-mails of the notices it wrote at one instant.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed: the nightly job asks "has this notice an e-mail yet?" for every notice it wrote.
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # After a failed send: not tried again before this (backoff doubling per attempt, services.next_attempt_at).
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    # An issued document sent with the e-mail as a PDF attachment (app.documents; read through the reader
    # create_app registers, services.read_attachments_with): a plain id, this domain knows nothing of documents.
    attachment_document_id: Mapped[int | None] = mapped_column(Integer)


# ---- messengers (issue 25): WeCom (企业微信) and DingTalk, through the same outbox pattern ------------------

# What a message goes through: an app message to one user's id, or a group robot's webhook.
WECOM_APP = "wecom_app"
WECOM_ROBOT = "wecom_robot"
DINGTALK_WORK = "dingtalk_work"  # a work notice (工作通知) to one user's DingTalk userid
DINGTALK_ROBOT = "dingtalk_robot"
MESSENGER_CHANNELS = (WECOM_APP, WECOM_ROBOT, DINGTALK_WORK, DINGTALK_ROBOT)


class OutboxMessage(db.Model):
    """A message to WeCom or DingTalk, written in the notice's transaction and sent later by the same
    step as the e-mails (``flask send-mail``, the nightly job): sent at least once, recorded once."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_waiting", "sent_at", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    # The user's WeCom / DingTalk id for an app message; empty for a robot.
    to_userid: Mapped[str] = mapped_column(String(64), default="")
    # A robot's college (its webhook is read when sending, so an edited webhook applies); NULL: the site's robot.
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class CollegeRobot(db.Model):
    """A college's group robots (admin-edited): its WeCom group robot's webhook key and its DingTalk group
    robot's access token and signing secret. A college without a row has no robot."""

    __tablename__ = "college_robots"

    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), primary_key=True)
    wecom_key: Mapped[str | None] = mapped_column(String(200))
    dingtalk_token: Mapped[str | None] = mapped_column(String(200))
    dingtalk_secret: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MessengerToken(db.Model):
    """The access token of WeCom's or DingTalk's API (gettoken), kept until it expires or the API calls it
    invalid (40014, 42001): asked for again then, not for every message."""

    __tablename__ = "messenger_tokens"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    access_token: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[datetime] = mapped_column(DateTime)

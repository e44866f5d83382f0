"""Sending the e-mail outbox through SMTP as campus mail servers require (issue 25): implicit TLS (``ssl``,
port 465: Tencent Exmail), ``starttls`` (587: Coremail) or ``none``; AUTH only over TLS (the password is
never sent in clear: such a setting is refused and recorded on the rows); ``Date`` and ``Message-ID``
headers; each failure recorded on its row with a retry time that doubles (``next_attempt_at``)."""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, or_, select

from app.extensions import db
from app.timeutil import utcnow

from .models import OutboxEmail

log = logging.getLogger(__name__)

SECURITIES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
MAX_BACKOFF = timedelta(hours=6)


class MailSettingsRefused(Exception):
    """The settings would send the password in clear, or name no known security: nothing is tried."""


def security(config: dict) -> str:
    """LABSAFE_SMTP_SECURITY; unset: ssl on port 465, starttls when a user is set, else none."""
    chosen = (config.get("SMTP_SECURITY") or "").strip().lower()
    if chosen:
        return chosen
    if str(config.get("SMTP_PORT") or "") == "465":
        return "ssl"
    return "starttls" if config.get("SMTP_USER") else "none"


def port(config: dict) -> int:
    value = config.get("SMTP_PORT")
    return int(value) if value not in (None, "") else DEFAULT_PORTS.get(security(config), 25)


def next_attempt_at(attempts: int, config: dict, now: datetime) -> datetime:
    """After the ``attempts``-th failure: OUTBOX_RETRY_SECONDS, doubling each time, at most 6 hours."""
    base = timedelta(seconds=int(config.get("OUTBOX_RETRY_SECONDS", 60)))
    return now + min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def due(model, config: dict, now: datetime):
    """The rows of an outbox table waiting to be sent now: not sent, attempts left, their retry time reached."""
    return (model.sent_at.is_(None), model.attempts < int(config.get("OUTBOX_MAX_ATTEMPTS", 8)),
            or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now))


def claim(model, config: dict, now: datetime, limit: int) -> list:
    """The rows of an outbox table due now, oldest first; FOR UPDATE SKIP LOCKED on PostgreSQL, so two
    senders never send the same row."""
    return list(db.session.scalars(select(model).where(*due(model, config, now)).order_by(model.id).limit(limit)
                                   .with_for_update(skip_locked=True)))


def record_failure(row, error: str, config: dict, now: datetime) -> None:
    row.attempts += 1
    row.last_error = error[:2000]
    row.next_attempt_at = next_attempt_at(row.attempts, config, now)


def record_success(row) -> None:
    """Recorded once: ``sent_at`` set, the row leaves the outbox."""
    row.attempts += 1
    row.sent_at = utcnow()
    row.last_error = None
    row.next_attempt_at = None


def connect(config: dict) -> smtplib.SMTP:
    """An SMTP connection as the settings say, logged in when a user is set. Raises MailSettingsRefused
    before connecting when the password would travel in clear."""
    mode = security(config)
    if mode not in SECURITIES:
        raise MailSettingsRefused(f"LABSAFE_SMTP_SECURITY={mode!r} is not one of ssl, starttls, none")
    user = config.get("SMTP_USER")
    if user and mode == "none":
        raise MailSettingsRefused(
            "refused: the SMTP password would be sent without TLS (LABSAFE_SMTP_SECURITY=none with "
            "LABSAFE_SMTP_USER set); set LABSAFE_SMTP_SECURITY to ssl or starttls")
    host, timeout = config["SMTP_HOST"], int(config.get("SMTP_TIMEOUT") or 10)
    context = ssl.create_default_context(cafile=config.get("SMTP_CA_FILE") or None)
    if mode == "ssl":
        smtp = smtplib.SMTP_SSL(host, port(config), timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port(config), timeout=timeout)
    try:
        if mode == "starttls":
            smtp.ehlo()
            smtp.starttls(context=context)  # SMTPNotSupportedError when the server offers no STARTTLS
            smtp.ehlo()
        if user:
            smtp.login(user, config.get("SMTP_PASSWORD") or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def build_message(row: OutboxEmail, config: dict,
                  attachment: tuple[str, str, bytes] | None = None) -> EmailMessage:
    sender = config.get("MAIL_FROM") or "labsafe@localhost"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    # The same Message-ID on every attempt of a row: a message sent twice (at least once) reads as one.
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    msg["Message-ID"] = (f"<labsafe.outbox.{row.id}.{_stamp(row)}@{domain}>" if row.id
                         else make_msgid("labsafe.test", domain=domain))
    msg.set_content(row.body)
    if attachment is not None:
        name, media_type, data = attachment
        maintype, _, subtype = media_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def _stamp(row: OutboxEmail) -> str:
    return row.created_at.strftime("%Y%m%d%H%M%S") if row.created_at else "0"


def send(config: dict, read_attachment: Callable[[int], tuple[str, str, bytes] | None], *, limit: int = 500) -> dict:
    """Send the e-mails due. Without SMTP_HOST nothing is sent (mail stays in the outbox and shows in-app).

    Each failure is recorded on its row (attempts, last_error, next_attempt_at); a row is tried up to
    OUTBOX_MAX_ATTEMPTS times, then stays in the outbox as failed, with its reason, on the admin's page.
    On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED so two senders never send the same e-mail.
    """
    host = config.get("SMTP_HOST")
    result = {"sent": 0, "failed": 0, "waiting": 0, "configured": bool(host)}
    if not host:
        result["waiting"] = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None))) or 0
        return result
    now = utcnow()
    rows = claim(OutboxEmail, config, now, limit)
    if not rows:
        db.session.commit()
        return result
    try:
        smtp = connect(config)
    except MailSettingsRefused as exc:
        # Nothing was tried: the rows keep their attempts and say why until the settings are mended.
        for row in rows:
            row.last_error = str(exc)
        result["failed"] = len(rows)
        db.session.commit()
        log.error("outbox: %s", exc)
        return result
    except (OSError, smtplib.SMTPException) as exc:
        # The server is down or refused us: record it on every row we claimed, try again after the backoff.
        for row in rows:
            record_failure(row, f"connect: {type(exc).__name__}: {exc}", config, now)
        result["failed"] = len(rows)
        db.session.commit()
        log.warning("outbox: SMTP %s unreachable: %s", host, exc)
        return result
    try:
        for row in rows:
            attachment = read_attachment(row.attachment_document_id) if row.attachment_document_id else None
            msg = build_message(row, config, attachment)
            try:
                smtp.send_message(msg)
            except (OSError, smtplib.SMTPException) as exc:
                record_failure(row, f"{type(exc).__name__}: {exc}", config, now)
                result["failed"] += 1
                continue
            record_success(row)
            result["sent"] += 1
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        db.session.commit()
    return result


def send_test(config: dict, to_address: str, subject: str, body: str) -> None:
    """Send one message now (the admin's test), raising what went wrong."""
    if not config.get("SMTP_HOST"):
        raise MailSettingsRefused("LABSAFE_SMTP_HOST is not set")
    smtp = connect(config)
    try:
        row = OutboxEmail(id=None, to_address=to_address, subject=subject, body=body, created_at=utcnow())
        smtp.send_message(build_message(row, config))
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass

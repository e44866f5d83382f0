"""Mail that campus servers accept (issue 25), against a real SMTP server (aiosmtpd) on 127.0.0.1 in each
security mode: implicit TLS (ssl), STARTTLS, none; AUTH only over TLS; Date and Message-ID; retries with
backoff recorded on the outbox row; attachments; a failed send stays in the outbox with its reason."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select, update

from app.auth.models import Role
from app.extensions import db
from app.notifications import mail, services
from app.notifications.models import OutboxEmail
from app.timeutil import utcnow
from tests.factories import make_college, make_lab, make_ticket, make_user

from .servers import PASSWORD, USER, SMTPServer, free_port, self_signed_cert


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def queued(app):
    """One waiting e-mail: a new ticket's notice to the lab's officer."""
    lab = make_lab(make_college())
    make_user(Role.lab_officer, lab=lab, email="officer@example.edu.cn")
    make_ticket(lab)
    return lab


def _smtp(app, server, mode, cert, **more):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_SECURITY=mode, SMTP_USER=USER,
                      SMTP_PASSWORD=PASSWORD, SMTP_CA_FILE=str(cert[0]) if cert else None, SMTP_TIMEOUT=5, **more)


def _row() -> OutboxEmail:
    db.session.expire_all()
    return db.session.scalar(select(OutboxEmail).order_by(OutboxEmail.id))


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
def test_sent_over_tls_with_auth_date_and_message_id(app, runner, queued, cert, mode):
    server = SMTPServer(mode, cert)
    try:
        _smtp(app, server, mode, cert)
        result = runner.invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        assert '"sent": 1' in result.output
        [got] = server.messages
        assert got["rcpt"] == ["officer@example.edu.cn"] and got["tls"] and got["authenticated"]
        assert server.handler.auth_attempts and all(tls for _, tls in server.handler.auth_attempts)
        msg = got["message"]
        assert abs(parsedate_to_datetime(msg["Date"]) - datetime.now(UTC)) < timedelta(minutes=2)
        row = _row()
        assert msg["Message-ID"].startswith(f"<labsafe.outbox.{row.id}.") and msg["Message-ID"].endswith("@localhost>")
        assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
    finally:
        server.stop()


def test_none_mode_without_user_sends_in_clear(app, queued):
    server = SMTPServer("none", auth=False)
    try:
        _smtp(app, server, "none", None)
        app.config.update(SMTP_USER=None, SMTP_PASSWORD=None)
        assert services.send_outbox(app.config)["sent"] == 1
        assert server.messages[0]["tls"] is False and not server.handler.auth_attempts
    finally:
        server.stop()


def test_no_password_in_clear_a_clear_recorded_error(app, queued, cert):
    """security=none with a user: refused before connecting, said on the row; nothing tried, no attempt used."""
    server = SMTPServer("none")  # would refuse AUTH in clear anyway (538)
    try:
        _smtp(app, server, "none", None)
        result = services.send_outbox(app.config)
        assert result["sent"] == 0 and result["failed"] == 1
        row = _row()
        assert row.sent_at is None and row.attempts == 0
        assert "without TLS" in row.last_error and "LABSAFE_SMTP_SECURITY" in row.last_error
        assert server.messages == [] and server.handler.auth_attempts == []
    finally:
        server.stop()


def test_server_refuses_auth_before_tls(app, cert):
    """The server of the tests does refuse AUTH in clear (what campus servers do): smtplib sees 538."""
    import smtplib

    server = SMTPServer("none")
    try:
        smtp = smtplib.SMTP("127.0.0.1", server.port, timeout=5)
        with pytest.raises(smtplib.SMTPException):
            smtp.login(USER, PASSWORD)
        smtp.quit()
    finally:
        server.stop()


def test_starttls_required_but_not_offered_is_recorded_with_backoff(app, queued):
    server = SMTPServer("none")  # no STARTTLS on offer
    try:
        _smtp(app, server, "starttls", None, OUTBOX_RETRY_SECONDS=60)
        before = utcnow()
        assert services.send_outbox(app.config)["failed"] == 1
        row = _row()
        assert row.attempts == 1 and "STARTTLS" in row.last_error.upper()
        assert before + timedelta(seconds=59) <= row.next_attempt_at <= utcnow() + timedelta(seconds=61)
        assert server.handler.auth_attempts == []  # the password never left
    finally:
        server.stop()


def test_retries_back_off_then_succeed_and_attempts_run_out(app, queued, cert):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="ssl", SMTP_TIMEOUT=2,
                      OUTBOX_RETRY_SECONDS=60, OUTBOX_MAX_ATTEMPTS=3, SMTP_CA_FILE=str(cert[0]))
    assert services.send_outbox(app.config)["failed"] == 1
    first = _row()
    assert first.attempts == 1 and first.last_error.startswith("connect:")
    delay1 = first.next_attempt_at - utcnow()
    # Not due yet: a second run leaves it alone.
    assert services.send_outbox(app.config) | {"messengers": None} == {
        "sent": 0, "failed": 0, "waiting": 0, "configured": True, "messengers": None}
    assert _row().attempts == 1
    _due_now()
    assert services.send_outbox(app.config)["failed"] == 1
    second = _row()
    assert second.attempts == 2 and second.next_attempt_at - utcnow() > delay1 + timedelta(seconds=50)  # doubled
    _due_now()
    services.send_outbox(app.config)
    assert _row().attempts == 3
    _due_now()
    services.send_outbox(app.config)
    assert _row().attempts == 3  # used up: it stays, failed, with its reason, for the admin
    # The server is back, the admin sends the failed ones again.
    server = SMTPServer("ssl", cert)
    try:
        app.config.update(SMTP_PORT=server.port)
        from app.notifications import status

        assert status.retry_failed(3) == 1
        db.session.commit()
        assert services.send_outbox(app.config)["sent"] == 1
        assert _row().sent_at is not None and len(server.messages) == 1
    finally:
        server.stop()


def _due_now():
    db.session.execute(update(OutboxEmail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_pdf_attachment_is_sent(app, queued, cert):
    row = _row()
    row.attachment_document_id = 42
    db.session.commit()
    pdf = b"%PDF-1.7 test attachment"
    saved = services._read_attachment
    services.read_attachments_with(lambda document_id: ("ZG-42.pdf", "application/pdf", pdf)
                                   if document_id == 42 else None)
    server = SMTPServer("starttls", cert)
    try:
        _smtp(app, server, "starttls", cert)
        assert services.send_outbox(app.config)["sent"] == 1
        msg = server.messages[0]["message"]
        [part] = [p for p in msg.walk() if p.get_filename()]
        assert part.get_filename() == "ZG-42.pdf" and part.get_payload(decode=True) == pdf
        assert part.get_content_type() == "application/pdf"
    finally:
        services.read_attachments_with(saved)
        server.stop()


def test_security_and_port_defaults():
    assert mail.security({"SMTP_PORT": "465"}) == "ssl" and mail.port({"SMTP_PORT": "465"}) == 465
    assert mail.security({"SMTP_USER": "u"}) == "starttls" and mail.port({"SMTP_USER": "u"}) == 587
    assert mail.security({}) == "none" and mail.port({}) == 25
    assert mail.security({"SMTP_SECURITY": "STARTTLS", "SMTP_PORT": 25}) == "starttls"


def test_unknown_security_is_refused_and_said(app, queued):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="tls1.3")
    assert services.send_outbox(app.config)["failed"] == 1
    assert "not one of ssl, starttls, none" in _row().last_error

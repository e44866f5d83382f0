"""In-app inbox and the e-mail outbox: sent by a separate step, never inside the request."""
from __future__ import annotations

import socket
import threading

from flask import current_app
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.notifications import services
from app.notifications.models import Notification, OutboxEmail
from app.tickets import lifecycle as tickets
from tests.factories import login, make_college, make_lab, make_photo_row, make_ticket, make_user


class FakeSMTP:
    """A tiny SMTP server on a local port, in a thread: enough of RFC 5321 for smtplib."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.messages: list[dict] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rwb")
                f.write(b"220 fake ESMTP\r\n")
                f.flush()
                msg = {"rcpt": [], "data": b""}
                while True:
                    line = f.readline()
                    if not line:
                        break
                    cmd = line.strip().upper()
                    if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                        f.write(b"250 fake\r\n")
                    elif cmd.startswith(b"MAIL"):
                        msg = {"rcpt": [], "data": b""}
                        f.write(b"250 ok\r\n")
                    elif cmd.startswith(b"RCPT"):
                        msg["rcpt"].append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
                        f.write(b"250 ok\r\n")
                    elif cmd == b"DATA":
                        f.write(b"354 go\r\n")
                        f.flush()
                        chunks = []
                        while (chunk := f.readline()) not in (b".\r\n", b""):
                            chunks.append(chunk)
                        msg["data"] = b"".join(chunks)
                        self.messages.append(msg)
                        f.write(b"250 queued\r\n")
                    elif cmd == b"QUIT":
                        f.write(b"221 bye\r\n")
                        f.flush()
                        break
                    else:
                        f.write(b"250 ok\r\n")
                    f.flush()

    def close(self):
        self.sock.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return port


def _setup():
    college = make_college()
    lab = make_lab(college)
    officer = make_user(Role.lab_officer, lab=lab, email="officer@example.edu.cn")
    leader = make_user(Role.college_leader, college=college, email="leader@example.edu.cn")
    nomail = make_user(Role.college_head, college=college, email="")
    return college, lab, officer, leader, nomail


def test_inbox_per_trigger_and_read(client, app):
    college, lab, officer, leader, head = _setup()
    t = make_ticket(lab)
    login(client, officer)
    inbox = client.get("/api/notifications").get_json()
    assert [(n["kind"], n["ticket_id"]) for n in inbox] == [("new_ticket", t.id)]
    assert inbox[0]["email"] == "waiting" and inbox[0]["read_at"] is None and inbox[0]["label"]
    tickets.perform_action(officer, t.id, "start_fix", config=current_app.config)
    tickets.perform_action(officer, t.id, "submit_fix", config=current_app.config, note="done",
                           photos=[make_photo_row(officer).uuid])
    client.post("/api/logout")
    login(client, leader)
    inbox = client.get("/api/notifications").get_json()
    assert [n["kind"] for n in inbox] == ["fix_submitted"]
    resp = client.post(f"/api/notifications/{inbox[0]['id']}/read")
    assert resp.status_code == 200 and resp.get_json()["read_at"]
    assert client.get("/api/notifications?unread=1").get_json() == []
    # Someone else's notice cannot be marked read.
    other = db.session.scalar(select(Notification.id).where(Notification.user_id == officer.id))
    assert client.post(f"/api/notifications/{other}/read").status_code == 403
    assert client.post("/api/notifications/999999/read").status_code == 404
    page = client.get("/notifications").get_data(as_text=True)
    assert t.title in page
    # The college hears of escalation, the head without an address only in-app.
    tickets.perform_action(leader, t.id, "reject", config=current_app.config, note="not fixed")
    tickets.perform_action(officer, t.id, "declare_cannot_fix", config=current_app.config, interim_measures="cordon")
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert {(officer.id, "fix_rejected"), (head.id, "escalated"), (head.id, "cannot_fix")} <= kinds
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.to_address == "")) == 0


def test_mail_is_sent_by_a_separate_step_through_smtp(app, runner):
    _, lab, officer, leader, _ = _setup()
    server = FakeSMTP()
    try:
        make_ticket(lab)  # the request that causes a notice only queues the mail
        assert server.messages == []
        assert (
            db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None))) == 1
        )
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
        result = runner.invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        assert '"sent": 1' in result.output
        assert [m["rcpt"] for m in server.messages] == [["officer@example.edu.cn"]]
        assert b"LabSafe" in server.messages[0]["data"]
        db.session.expire_all()
        row = db.session.scalar(select(OutboxEmail))
        assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
        # Sending again sends nothing twice.
        assert services.send_outbox(app.config)["sent"] == 0
    finally:
        server.close()


def test_a_broken_mail_server_breaks_nothing(app, client):
    _, lab, officer, leader, _ = _setup()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_closed_port(), SMTP_TIMEOUT=2)
    t = make_ticket(lab)
    login(client, officer)
    resp = client.post(f"/api/tickets/{t.id}/actions", json={"action": "start_fix"})
    assert resp.status_code == 200  # the request never talks to SMTP
    result = services.send_outbox(app.config)
    assert result["failed"] == 1 and result["sent"] == 0
    db.session.expire_all()
    row = db.session.scalar(select(OutboxEmail))
    assert row.sent_at is None and row.attempts == 1 and "connect" in row.last_error
    login(client, officer)
    assert client.get("/api/notifications").get_json()[0]["email"] == "failed"


def test_without_smtp_mail_stays_in_the_outbox(app, runner):
    _, lab, officer, _, _ = _setup()
    make_ticket(lab)
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and '"configured": false' in result.output and '"waiting": 1' in result.output
    assert db.session.scalar(select(OutboxEmail.sent_at)) is None


def test_the_nightly_job_sends_the_outbox_at_the_end(app, runner):
    from datetime import datetime

    from tests.factories import backdate_lab

    _, lab, officer, _, _ = _setup()
    backdate_lab(lab, datetime(2020, 1, 1))
    server = FakeSMTP()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
        result = runner.invoke(args=["nightly", "--date", "2026-05-04"])
        assert result.exit_code == 0, result.output
        assert '"missed": 1' in result.output
        assert [m["rcpt"] for m in server.messages] == [["officer@example.edu.cn"]]
        assert runner.invoke(args=["nightly", "--date", "2026-05-04"]).exit_code == 0
        assert len(server.messages) == 1
        assert runner.invoke(args=["nightly", "--date", "not-a-day"]).exit_code != 0
    finally:
        server.close()


def test_notify_writes_set_based_once_per_user_and_key(app):
    """notify: one notice per user (duplicates in the list and the excluded user left out), an
    e-mail only for an address, nothing twice for the same dedupe key; a fixed number of statements."""
    from sqlalchemy import event

    college, lab, officer, leader, nomail = _setup()
    extra = [make_user(Role.college_leader, college=college, email=f"l{n}@example.edu.cn") for n in range(5)]
    config = current_app.config
    everyone = [officer, leader, nomail, *extra]
    lab_id = lab.id
    assert all(u.id and u.email is not None for u in everyone)  # loaded before counting
    statements = []
    listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        first = services.notify(
            [officer, leader, nomail, officer, *extra],
            kind=services.NEW_TICKET,
            facts=services.TitleFacts(lab="L", article="1", title="t" * 400),
            body="b",
            link="/tickets/1",
            lab_id=lab_id,
            config=config,
            dedupe_key="k:1",
            exclude_user_id=leader.id,
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 2  # the notices (dedupe inside), their e-mails
    again = services.notify([officer, leader, nomail], kind=services.NEW_TICKET, facts=services.TitleFacts(title="t"),
                            config=config,
                            dedupe_key="k:1")
    other = services.notify(
        [officer], kind=services.NEW_TICKET, facts=services.TitleFacts(title="t"), config=config
    )  # no key: no dedupe
    db.session.commit()
    rows = db.session.scalars(select(Notification).where(Notification.id.in_(first))).all()
    assert sorted(n.user_id for n in rows) == sorted([officer.id, nomail.id] + [u.id for u in extra])
    assert {(n.kind, n.title, n.body, n.link, n.lab_id, n.dedupe_key, n.read_at) for n in rows} == {
        ("new_ticket", ("L · 1 · " + "t" * 400)[:300], "b", "/tickets/1", lab.id, "k:1", None)}
    assert len(again) == 1 and len(other) == 1
    assert db.session.get(Notification, again[0]).user_id == leader.id
    mails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    by_notice = {m.notification_id: m for m in mails}
    assert {by_notice[n.id].to_address for n in rows if n.id in by_notice} == {
        "officer@example.edu.cn", *(u.email for u in extra)}
    mail = by_notice[next(n.id for n in rows if n.user_id == officer.id)]
    assert mail.subject.startswith("[LabSafe] ") and mail.body.startswith(("L · 1 · " + "t" * 400)[:300] + "\n\nb\n\n")
    assert mail.body.endswith("/tickets/1") and mail.attempts == 0 and mail.sent_at is None
    assert len(mails) == 1 + len(extra) + 2  # + leader's (again) and officer's (other)

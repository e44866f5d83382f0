"""Notices and written reports issued when due and sent (art. 28, 29): in-app and by e-mail, with the
PDF attached, through the notifications outbox; once."""
from __future__ import annotations

import email

from sqlalchemy import func, select

from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db
from app.notifications.models import Notification, OutboxEmail
from tests.documents.helpers import pdf_text
from tests.factories.tickets import make_ticket
from tests.notifications.test_notifications import FakeSMTP


def _notices(kind="document_issued"):
    return db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)).all()


def test_due_documents_are_issued_and_sent_once(app, runner, w, failed):
    major = make_ticket(w.lab_a, severity="major", article="16(2)", title="剧毒化学品未双人双锁")
    result = runner.invoke(args=["issue-documents"])
    assert result.exit_code == 0, result.output
    assert '"notices": 1' in result.output and '"written_reports": 1' in result.output
    docs = {d.kind: d for d in db.session.scalars(select(IssuedDocument))}
    notice, report = docs[DocumentKind.rectification_notice], docs[DocumentKind.written_report]
    assert notice.inspection_id == failed.id and notice.issued_by_id is None and notice.language == "zh_CN"
    assert report.ticket_id == major.id
    # The notice to the lab's officer and the college's leader; the written report to the college's
    # leaders and head and the routed department (art. 29, 9).
    to = {(n.user_id, n.link) for n in _notices()}
    assert (w.officer_a.id, f"/documents/{notice.id}") in to and (w.leader_a.id, f"/documents/{notice.id}") in to
    assert {(w.leader_a.id, f"/documents/{report.id}"), (w.head_a.id, f"/documents/{report.id}"),
            (w.dept_officer.id, f"/documents/{report.id}")} <= to
    assert (w.officer_b.id, f"/documents/{notice.id}") not in to
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.attachment_document_id.is_not(None))).all()
    assert {m.to_address for m in mails if m.attachment_document_id == notice.id} == {
        w.officer_a.email, w.leader_a.email}
    from app.notifications.services import inbox

    [titled] = [e.title for e in inbox(w.officer_a, locale="en") if e.kind == "document_issued"]
    assert titled == f"{w.lab_a.name_en or w.lab_a.name} · {notice.number} · Rectification notice"
    [titled] = [e.title for e in inbox(w.officer_a, locale="zh_CN") if e.kind == "document_issued"]
    assert titled.endswith(f"{notice.number} · 整改通知书")
    again = runner.invoke(args=["issue-documents"])
    assert '"notices": 0' in again.output and '"written_reports": 0' in again.output
    assert len(_notices()) == len(to)


def test_the_email_carries_the_filed_pdf(app, runner, w, failed):
    runner.invoke(args=["issue-documents"])
    notice = db.session.scalar(select(IssuedDocument))
    server = FakeSMTP()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
        result = runner.invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        to_officer = [m for m in server.messages if m["rcpt"] == [w.officer_a.email]]
        documents = [m for m in to_officer if b"application/pdf" in m["data"]]
        assert len(documents) == 1
        msg = email.message_from_bytes(documents[0]["data"].replace(b"\r\n", b"\n"))
        [pdf] = [part for part in msg.walk() if part.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == f"{notice.number}.pdf"
        db.session.expire_all()
        assert pdf.get_payload(decode=True) == db.session.get(IssuedDocument, notice.id).pdf
    finally:
        server.close()


def test_nothing_is_due_for_a_general_ticket_without_an_inspection(app, runner, w):
    make_ticket(w.lab_a, severity="general", article="24(6)")
    result = runner.invoke(args=["issue-documents"])
    assert '"notices": 0' in result.output and '"written_reports": 0' in result.output


def test_an_addressee_who_reads_english_is_sent_the_english_document(app, runner, w, failed):
    # Chinese first (the record is filed in the school's language), English for whom reads English.
    w.officer_a.locale = "en"
    db.session.commit()
    result = runner.invoke(args=["issue-documents"])
    assert result.exit_code == 0, result.output
    assert '"notices": 1' in result.output  # one notice of one inspection, filed in two languages
    docs = {d.language: d for d in db.session.scalars(select(IssuedDocument).where(
        IssuedDocument.kind == DocumentKind.rectification_notice))}
    assert set(docs) == {"zh_CN", "en"} and docs["zh_CN"].number != docs["en"].number
    sent = {(n.user_id, n.link) for n in _notices()}
    assert (w.officer_a.id, f"/documents/{docs['en'].id}") in sent
    assert (w.leader_a.id, f"/documents/{docs['zh_CN'].id}") in sent
    assert (w.officer_a.id, f"/documents/{docs['zh_CN'].id}") not in sent
    mails = {m.to_address: m.attachment_document_id for m in db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.attachment_document_id.is_not(None)))}
    assert mails[w.officer_a.email] == docs["en"].id and mails[w.leader_a.email] == docs["zh_CN"].id
    assert "Rectification notice" in pdf_text(docs["en"].pdf) and "整改通知书" in pdf_text(docs["zh_CN"].pdf)
    again = runner.invoke(args=["issue-documents"])
    assert '"notices": 0' in again.output
    assert db.session.scalar(select(func.count(IssuedDocument.id))) == 2

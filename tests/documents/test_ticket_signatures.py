"""The reply slip signed on a ticket (issue 23; art. 28): the reply (整改回执) issued by `flask issue-documents`
once the fix was verified carries both signatures (or a refusal and its reason); a notice issued or re-issued
after the fix shows the officer's in its reply slip, while one issued before stays as it was (art. 30); a
re-issued notice or written report is sent again; the round's ZIP carries its tickets' documents."""
from __future__ import annotations

import io
import uuid as uuidlib
from datetime import datetime

from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select

from app.documents import services
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db
from app.notifications.models import Notification, OutboxEmail
from app.photos.services import store_photo
from app.photos.signatures import SignatureSchema
from app.tickets import lifecycle
from app.tickets.models import RectificationTicket
from tests.factories import login, make_ticket, photo_bytes
from tests.factories.reports import add_inspection, local
from tests.factories.ticket_signatures import refused, signed
from tests.rounds.figures_scenario import plan
from tests.rounds.helpers import world as rounds_world

from .helpers import pdf_text
from .test_bulk import file_documents, read_zip


def _flat(text: str) -> str:
    return "".join(text.split())


def _images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def _ticket_of(inspection) -> RectificationTicket:
    return db.session.scalar(select(RectificationTicket).where(RectificationTicket.inspection_id == inspection.id))


def _fix(w, ticket, signature) -> None:
    cfg = current_app.config
    lifecycle.perform_action(w.officer_a, ticket.id, "start_fix", config=cfg)
    photo = store_photo(w.officer_a, str(uuidlib.uuid4()), photo_bytes(seed=7), cfg).photo
    lifecycle.perform_action(w.officer_a, ticket.id, "submit_fix", config=cfg, note="加装防倾倒链",
                             photos=[photo.uuid], signature=SignatureSchema().load(signature))


def _verify(w, ticket, signature) -> None:
    lifecycle.perform_action(w.leader_a, ticket.id, "verify", config=current_app.config, note="现场复查合格",
                             signature=SignatureSchema().load(signature))


def _docs(kind) -> list[IssuedDocument]:
    return list(db.session.scalars(select(IssuedDocument).where(IssuedDocument.kind == kind)
                                   .order_by(IssuedDocument.id)))


def test_the_reply_issued_at_verification_carries_both_signatures(app, runner, w, failed):
    ticket = _ticket_of(failed)
    _fix(w, ticket, signed("张整改"))
    _verify(w, ticket, signed("王院长", seed=5))
    result = runner.invoke(args=["issue-documents"])
    assert '"replies": 1' in result.output, result.output
    [reply] = _docs(DocumentKind.rectification_reply)
    assert reply.ticket_id == ticket.id and reply.number.split("-")[2] == "HZ"
    text = _flat(pdf_text(reply.pdf))
    assert "整改回执" in text and "张整改" in text and "王院长" in text and "加装防倾倒链" in text
    assert "现场复查合格" in text
    assert _images(reply.pdf) >= 2  # the two drawn signatures
    # Sent where the notice went: the lab's officer and the college's leader, with the PDF attached.
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.attachment_document_id == reply.id)).all()
    assert {m.to_address for m in mails} == {w.officer_a.email, w.leader_a.email}
    assert '"replies": 0' in runner.invoke(args=["issue-documents"]).output


def test_a_refusal_shows_on_the_reply_with_its_reason(app, runner, w, failed):
    ticket = _ticket_of(failed)
    _fix(w, ticket, signed("张整改"))
    _verify(w, ticket, refused("整改照片不清晰，另行复核"))
    runner.invoke(args=["issue-documents"])
    [reply] = _docs(DocumentKind.rectification_reply)
    text = _flat(pdf_text(reply.pdf))
    assert "拒绝签字" in text and "整改照片不清晰，另行复核" in text and "张整改" in text


def test_a_notice_issued_after_the_fix_shows_the_officers_signature_one_before_stays(client, runner, w, failed):
    runner.invoke(args=["issue-documents"])
    [before] = _docs(DocumentKind.rectification_notice)
    first_bytes = before.pdf
    assert "张整改" not in _flat(pdf_text(first_bytes))
    _fix(w, _ticket_of(failed), signed("张整改"))
    login(client, w.leader_a)
    assert client.post(f"/documents/{before.id}/reissue").status_code == 302
    db.session.expire_all()
    old, new = _docs(DocumentKind.rectification_notice)
    assert old.pdf == first_bytes  # never changed (art. 30)
    assert new.replaces_id == old.id and "张整改" in _flat(pdf_text(new.pdf))
    for lang, english in (("zh_CN", False), ("en", True)):
        data = client.get(f"/inspections/{failed.id}/notice.pdf?lang={lang}").data
        if english:  # first issued in English now, after the fix: the slip carries the signature
            assert "张整改" in _flat(pdf_text(data))


def test_a_reissued_notice_and_written_report_are_sent_again(client, runner, w, failed):
    major = make_ticket(w.lab_a, severity="major", article="16(2)", title="剧毒化学品未双人双锁")
    runner.invoke(args=["issue-documents"])
    notice, = _docs(DocumentKind.rectification_notice)
    report, = _docs(DocumentKind.written_report)
    login(client, w.leader_a)
    for doc in (notice, report):
        assert client.post(f"/documents/{doc.id}/reissue").status_code == 302
    db.session.expire_all()
    new_notice = _docs(DocumentKind.rectification_notice)[-1]
    new_report = _docs(DocumentKind.written_report)[-1]

    def sent(doc):
        to_users = {n.user_id for n in db.session.scalars(
            select(Notification).where(Notification.link == f"/documents/{doc.id}"))}
        mailed = {m.to_address for m in db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.attachment_document_id == doc.id))}
        return to_users, mailed

    users, mailed = sent(new_notice)
    # Same addressees as the first issue (the re-issuer too: they are a leader of the college).
    assert users == sent(notice)[0] and mailed == sent(notice)[1] == {w.officer_a.email, w.leader_a.email}
    users, mailed = sent(new_report)
    assert users == sent(report)[0] and w.dept_officer.email in mailed
    assert new_report.ticket_id == major.id


def test_the_round_zip_carries_its_tickets_written_reports(client, app, monkeypatch):
    w = rounds_world()
    october = plan(w, datetime(2026, 9, 25).date(), datetime(2026, 10, 10).date())
    a0 = w.labs[0]
    counted = add_inspection(a0, "school", local(2026, 10, 2), inspector=w.inspector, version=w.version)
    outside = add_inspection(a0, "school", local(2026, 10, 12), inspector=w.inspector, version=w.version)
    db.session.commit()
    mine, other = (lifecycle.create_ticket(lab=a0, article="16(2)", title="剧毒化学品未双人双锁", severity="major",
                                           config=current_app.config, inspection_id=i.id) for i in (counted, outside))
    db.session.commit()
    issued = datetime(2026, 10, 20, 2, 0)
    [record, report, stray] = file_documents(monkeypatch, [
        services.inspection_subject(counted), services.written_report_subject(mine),
        services.written_report_subject(other)], issued)
    number = {d.id: d.number for d in db.session.scalars(select(IssuedDocument))}
    login(client, w.admin)
    rows, _files = read_zip(client.get(f"/rounds/{october.id}/documents.zip"))
    numbers = {r["number"] for r in rows}
    assert {number[record], number[report]} <= numbers and number[stray] not in numbers

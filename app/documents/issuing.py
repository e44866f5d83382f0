"""Issuing the notices, written reports and replies that are due, and sending them (art. 28, 29): a
rectification notice for each inspection that found hazards, a written report for each major or
cannot-fix hazard, a reply (整改回执) for each hazard whose fix was verified, filed by the system in
the school's language and sent to whom they are addressed, in-app and by e-mail with the PDF attached
(the notifications outbox); an addressee who reads English is sent the English one, filed beside it
(each language is its own document, with its own number). `flask issue-documents` runs it (e.g.
every 10 minutes, beside send-mail); running it again issues and sends nothing twice. A re-issue
(POST /documents/<id>/reissue) is sent again to the same addressees (resend)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.inspections.services import get_inspection
from app.language import locale_object
from app.notifications import services as notices
from app.org.services import get_lab
from app.tickets.lifecycle import get_ticket
from app.tickets.listing import inspections_with_tickets_since, replies_due, written_reports_due
from app.timeutil import utcnow

from . import services
from .models import DocumentKind, IssuedDocument

K = DocumentKind


def _issued(kind: DocumentKind, column, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(db.session.scalars(select(column).where(IssuedDocument.kind == kind, column.in_(ids))))


def _send(doc: IssuedDocument, recipients, lab, config) -> int:
    with force_locale(locale_object("zh_CN")):
        zh = str(services.KIND_TITLES[doc.kind])
    with force_locale(locale_object("en")):
        en = str(services.KIND_TITLES[doc.kind])
    facts = notices.TitleFacts(lab=lab.name, lab_en=lab.name_en)
    return len(notices.notify(
        recipients, kind=notices.DOCUMENT_ISSUED, facts=facts, config=config, link=f"/documents/{doc.id}",
        params={"number": doc.number, "title": zh, "title_en": en},
        lab_id=lab.id, ticket_id=doc.ticket_id, dedupe_key=f"document:{doc.id}", attachment_document_id=doc.id,
    ))


def addressees(kind: DocumentKind, lab, ticket=None) -> list:
    """To whom a notice, a written report or a reply is sent (the same for its re-issue)."""
    if kind == K.rectification_notice:
        # To the lab's safety officers, a copy to the college's leaders (art. 10(2), (3); 28).
        return notices.lab_officers(lab.id) + notices.college_leaders(lab.college_id)
    if kind == K.written_report:
        # Art. 29: in writing to the college (its leaders and head) and the department it is routed to (art. 9).
        return notices.college_oversight(lab.college_id) + notices.department_officers(ticket.department_id)
    if kind == K.rectification_reply:
        # Back to whom the notice went; a hazard reported in writing (art. 29), to its addressees too.
        out = notices.lab_officers(lab.id) + notices.college_leaders(lab.college_id)
        if services.qualifies_for_written_report(ticket):
            out += notices.college_oversight(lab.college_id) + notices.department_officers(ticket.department_id)
        return out
    return []


def _issue_and_send(subject, render_in, kind: DocumentKind, lab, config, ticket=None) -> int:
    """File the document in the school's language (always: it is the record) and, when an addressee
    reads English, in English too; send each addressee the one in their language. Returns the count."""
    school = services.language_of(config.get("BABEL_DEFAULT_LOCALE"))
    by_language: dict[str, list] = {school: []}
    for r in addressees(kind, lab, ticket):
        by_language.setdefault(services.language_of(r.locale or school), []).append(r)
    sent = 0
    for language, readers in by_language.items():  # the school's language first (dicts keep order)
        doc = services.issue(subject, language, None, config, render_in(language), own_transaction=False)
        if readers:
            sent += _send(doc, readers, lab, config)
    return sent


def resend(doc: IssuedDocument, config) -> int:
    """Send a re-issued notice, written report or reply to the same addressees as the first issue
    (in-app and by e-mail with its PDF); other kinds are not sent. Does not commit. Returns the count."""
    if doc.kind not in (K.rectification_notice, K.written_report, K.rectification_reply):
        return 0
    lab = get_lab(doc.lab_id)
    ticket = get_ticket(doc.ticket_id) if doc.ticket_id else None
    return _send(doc, addressees(doc.kind, lab, ticket), lab, config)


def issue_due(config, *, days: int | None = None) -> dict:
    """Issue and send what is due from the last ``days`` (DOCUMENTS_AUTO_ISSUE_DAYS): returns counts.
    Needs a request context (templates); the CLI gives it one."""
    since = utcnow() - timedelta(days=days if days is not None else config["DOCUMENTS_AUTO_ISSUE_DAYS"])
    out = {"notices": 0, "written_reports": 0, "replies": 0, "recipients": 0}

    inspection_ids = inspections_with_tickets_since(since)
    done = _issued(K.rectification_notice, IssuedDocument.inspection_id, inspection_ids)
    for inspection_id in inspection_ids:
        if inspection_id in done:
            continue
        inspection = get_inspection(inspection_id)
        out["recipients"] += _issue_and_send(
            services.notice_subject(inspection),
            lambda language, inspection=inspection: services.render_notice(inspection, None, config, language),
            K.rectification_notice, get_lab(inspection.lab_id), config)
        out["notices"] += 1
        db.session.commit()

    for kind, count, due, subject_of, renderer in (
            (K.written_report, "written_reports", written_reports_due, services.written_report_subject,
             services.render_written_report),
            (K.rectification_reply, "replies", replies_due, services.reply_subject, services.render_reply)):
        tickets = due(since)
        done = _issued(kind, IssuedDocument.ticket_id, [t.id for t in tickets])
        for ticket in tickets:
            if ticket.id in done:
                continue
            out["recipients"] += _issue_and_send(
                subject_of(ticket), lambda language, ticket=ticket, renderer=renderer: renderer(
                    ticket, None, config, language), kind, get_lab(ticket.lab_id), config, ticket)
            out[count] += 1
            db.session.commit()
    return out


def attachment_of(document_id: int):
    """(file name, media type, bytes) of a document, for the outbox (notifications.read_attachments_with)."""
    doc = db.session.get(IssuedDocument, document_id)
    if doc is None:
        return None
    return f"{doc.number}.pdf", "application/pdf", services.pdf_of(doc)


"""Issuing and reading documents: rendered once, stored with their SHA-256 and number, then served
as stored (art. 28-30). What a document says is read from the owning domains' services: the
inspection and its answers (inspections), the hazards, their deadlines and routing (tickets), the
photos' display copies (photos), the addressees (notifications' recipient rules)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from app.checklists.models import Severity
from app.errors import Conflict, NotFound
from app.extensions import db
from app.inspections import services as inspections
from app.language import is_chinese, locale_object, pick
from app.notifications import services as notices
from app.org.services import get_department, get_lab
from app.photos.services import display_copies
from app.tickets import labels
from app.tickets.labels import value_of
from app.tickets.lifecycle import get_tickets
from app.tickets.serialize import ticket_detail
from app.tickets.signatures import latest_by_role, signatures_by_ticket
from app.timeutil import utcnow

from . import rendering
from .models import KIND_CODES, DocumentKind, IssuedDocument

K = DocumentKind
MAX_ID = 2**31 - 1

KIND_TITLES = {
    K.inspection_report: _l("Laboratory safety inspection record"),
    K.rectification_notice: _l("Rectification notice"),
    K.written_report: _l("Written report of a hazard (art. 29)"),
    K.monthly_summary: _l("Monthly safety summary"),
    K.rectification_reply: _l("Rectification reply"),
    K.accident_report: _l("Lab accident report (art. 31)"),
    K.accident_inquiry: _l("Lab accident investigation report (art. 32)"),
}


def language_of(locale: str | None) -> str:
    """Documents come in two languages: Chinese (the record's own) or English."""
    return "zh_CN" if is_chinese(locale or "zh_CN") else "en"


@dataclass(frozen=True)
class Subject:
    """What a document is of: one of an inspection, a ticket, or a month (of the school or a college)."""

    kind: DocumentKind
    lab_id: int | None = None
    inspection_id: int | None = None
    ticket_id: int | None = None
    college_id: int | None = None
    month: date | None = None
    accident_id: int | None = None

    def key(self, language: str, generation: int) -> str:
        if self.accident_id is not None:
            of = f"a{self.accident_id}"
        elif self.inspection_id is not None:
            of = f"i{self.inspection_id}"
        elif self.ticket_id is not None:
            of = f"t{self.ticket_id}"
        else:
            of = f"{'c' + str(self.college_id) if self.college_id else 'school'}:{self.month:%Y-%m}"
        return f"{self.kind.value}:{of}:{language}:{generation}"

    def clause(self):
        d = IssuedDocument
        return [d.kind == self.kind, d.inspection_id.is_(None) if self.inspection_id is None
                else d.inspection_id == self.inspection_id,
                d.ticket_id.is_(None) if self.ticket_id is None else d.ticket_id == self.ticket_id,
                d.college_id.is_(None) if self.college_id is None else d.college_id == self.college_id,
                d.month.is_(None) if self.month is None else d.month == self.month,
                d.accident_id.is_(None) if self.accident_id is None else d.accident_id == self.accident_id]


# ---- reading ------------------------------------------------------------------------------------

def get_document(document_id: int) -> IssuedDocument:
    doc = db.session.get(IssuedDocument, document_id) if 0 < document_id <= MAX_ID else None
    if doc is None:
        raise NotFound(_("No such document."))
    return doc


def latest(subject: Subject, language: str) -> IssuedDocument | None:
    """The document in force for this subject and language: the last issued (a re-issue replaces)."""
    return db.session.scalar(
        select(IssuedDocument).where(*subject.clause(), IssuedDocument.language == language)
        .options(undefer(IssuedDocument.pdf)).order_by(IssuedDocument.id.desc()).limit(1)
    )


def pdf_of(doc: IssuedDocument) -> bytes:
    """The stored bytes, exactly as issued."""
    return doc.pdf


def lab_documents(lab_id: int) -> list[IssuedDocument]:
    """A lab's documents, newest first (without their bytes)."""
    return list(db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.lab_id == lab_id)
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
    ))


def listed(doc: IssuedDocument) -> dict:
    """A document as the JSON list shows it (IssuedDocumentSchema)."""
    return {
        "id": doc.id, "number": doc.number, "kind": doc.kind.value, "language": doc.language, "sha256": doc.sha256,
        "byte_size": doc.byte_size, "issued_at": doc.issued_at, "inspection_id": doc.inspection_id,
        "ticket_id": doc.ticket_id, "replaces_id": doc.replaces_id, "url": f"/documents/{doc.id}",
        "pdf_url": f"/documents/{doc.id}.pdf",
    }


def ticket_documents(ticket_id: int) -> list[IssuedDocument]:
    return list(db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.ticket_id == ticket_id).order_by(IssuedDocument.id.desc())
    ))


@dataclass(frozen=True)
class LabPlace:
    """Where a document's subject is, as the policy places it (by its lab)."""

    lab_id: int


def replaced_by(doc: IssuedDocument) -> IssuedDocument | None:
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.replaces_id == doc.id))


# ---- issuing ------------------------------------------------------------------------------------

def school_day(value: datetime, config) -> date:
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(config["SCHOOL_TIMEZONE"])).date()


def _number(kind: DocumentKind, issued_at: datetime, config) -> str:
    """The next number of this kind in the school-local year: documents are never deleted, so the
    count of those already numbered is the sequence so far (a lost race retries: issue())."""
    year = school_day(issued_at, config).year
    prefix = f"{config['SCHOOL_CODE']}-{year}-{KIND_CODES[kind]}-"
    count = db.session.scalar(select(func.count()).where(IssuedDocument.number.like(prefix + "%")))
    return f"{prefix}{count + 1:05d}"


def _file(subject: Subject, language: str, generation: int, *, replaces_id: int | None, user_id: int | None,
          config, render: Callable[[str, datetime], bytes], own_transaction: bool,
          lost: Callable[[], bool]) -> str | None:
    """Draw the next number, render with it and INSERT: the issue key filed, or None when another
    request filed this document first (``lost`` says so after a refused INSERT). A number taken by
    another document of the kind meanwhile is drawn again (the number is printed: render again)."""
    key = subject.key(language, generation)
    for _attempt in range(5):
        issued_at = utcnow().replace(microsecond=0)
        number = _number(subject.kind, issued_at, config)
        pdf = render(number, issued_at)
        values = dict(
            number=number, kind=subject.kind, issue_key=key, language=language, lab_id=subject.lab_id,
            inspection_id=subject.inspection_id, ticket_id=subject.ticket_id, college_id=subject.college_id,
            month=subject.month, accident_id=subject.accident_id, replaces_id=replaces_id, issued_by_id=user_id,
            issued_at=issued_at,
            sha256=hashlib.sha256(pdf).hexdigest(), byte_size=len(pdf), pdf=pdf,
        )
        try:
            if own_transaction:
                with db.engine.begin() as conn:
                    conn.execute(insert(IssuedDocument), values)
            else:
                with db.session.begin_nested():
                    db.session.execute(insert(IssuedDocument), values)
        except IntegrityError:
            if lost():
                return None
            continue
        return key
    raise RuntimeError("could not file the document after 5 attempts")  # pragma: no cover


def issue(subject: Subject, language: str, user_id: int | None, config,
          render: Callable[[str, datetime], bytes], *, own_transaction: bool) -> IssuedDocument:
    """The document in force for ``subject`` in ``language``; the first time, render it (with its
    number and date) and file it. ``own_transaction``: the caller reads only (a GET), so the one
    INSERT commits on a connection of its own; otherwise it joins the caller's transaction.

    Two first downloads at once file one document: the issue key is unique, and the loser serves
    the winner's."""
    found = latest(subject, language)
    if found is not None:
        return found
    _file(subject, language, 1, replaces_id=None, user_id=user_id, config=config, render=render,
          own_transaction=own_transaction, lost=lambda: latest(subject, language) is not None)
    return latest(subject, language)


def subject_of(doc: IssuedDocument) -> Subject:
    return Subject(doc.kind, lab_id=doc.lab_id, inspection_id=doc.inspection_id, ticket_id=doc.ticket_id,
                   college_id=doc.college_id, month=doc.month, accident_id=doc.accident_id)


def _already_replaced(newer: IssuedDocument) -> Conflict:
    return Conflict(_("This document was already replaced by %(number)s; re-issue that one.", number=newer.number),
                    {"replaced_by": newer.id})


def reissue(doc: IssuedDocument, user_id: int, config, render: Callable[[str, datetime], bytes]) -> IssuedDocument:
    """A re-issue is a new document, rendered from today's data (e.g. photos that arrived after the first
    issue) with its own number, that names the one it replaces; the old one stays as filed, byte for
    byte (art. 30). Only the document in force is re-issued: ``replaces_id`` is unique, so two re-issues
    of one document at once file one, and the other is told which."""
    newer = replaced_by(doc)
    if newer is not None:
        raise _already_replaced(newer)
    subject = subject_of(doc)
    generation = 1 + db.session.scalar(
        select(func.count()).where(*subject.clause(), IssuedDocument.language == doc.language))
    key = _file(subject, doc.language, generation, replaces_id=doc.id, user_id=user_id, config=config,
                render=render, own_transaction=False, lost=lambda: replaced_by(doc) is not None)
    if key is None:
        raise _already_replaced(replaced_by(doc))
    new = db.session.scalar(select(IssuedDocument).where(IssuedDocument.issue_key == key))
    db.session.commit()
    return new


# ---- what each document says ---------------------------------------------------------------------

def _frame(number: str, issued_at: datetime, lab, config, title: str) -> dict:
    """What every document prints: the school, its number, when it was issued."""
    return {
        "school": pick(config["SCHOOL_NAME"], config["SCHOOL_NAME_EN"]),
        "number": number,
        "issued_at": issued_at,
        "title": title,
        "lab": lab,
        "lab_name": pick(lab.name, lab.name_en) if lab else "",
        "college_name": pick(lab.college.name, lab.college.name_en) if lab else "",
    }


def _with_photos(uuids: list[str], config) -> dict[str, str]:
    return {u: rendering.data_uri(b) for u, b in display_copies(uuids, config).items()}


def inspection_subject(inspection) -> Subject:
    return Subject(K.inspection_report, lab_id=inspection.lab_id, inspection_id=inspection.id)


def notice_subject(inspection) -> Subject:
    return Subject(K.rectification_notice, lab_id=inspection.lab_id, inspection_id=inspection.id)


def written_report_subject(ticket) -> Subject:
    return Subject(K.written_report, lab_id=ticket.lab_id, ticket_id=ticket.id)


def reply_subject(ticket) -> Subject:
    return Subject(K.rectification_reply, lab_id=ticket.lab_id, ticket_id=ticket.id)


def inspection_facts(inspection, user) -> dict:
    """The inspection as its page shows it (inspections' own detail), every answer with its article."""
    return inspections.inspection_detail(inspection, user)


def signatures_of(inspection) -> dict[str, dict]:
    """The inspection's signatures by role, as the signature areas draw them: the image (a data: URI),
    the name and time, or the refusal and its reason. A role that did not sign is absent (left blank)."""
    return {s.role.value: {
        "name": s.name, "signed_at": s.signed_at, "refused": s.refused, "reason": s.reason,
        "image": rendering.data_uri(s.png, "image/png") if s.png else None,
    } for s in inspections.signatures_of(inspection.id)}


def notice_reply(hazards: list[dict]) -> dict:
    """What the notice's reply slip shows once fixes were submitted (a notice issued, or re-issued, after
    them; one already issued never changes): which hazards were rectified, when the last was, and the
    last signatures given of the officer and the reviewer on the hazards' tickets (art. 28)."""
    tickets = [h["ticket"] for h in hazards if h["ticket"] is not None]
    signed = reply_signatures(t.id for t in tickets)
    fixed = {t.id for t in tickets if t.fixed_by_id is not None and value_of(t.state) in ("fix_submitted", "closed")}
    last = {}
    for t in sorted(tickets, key=lambda t: t.id):
        last.update(signed.get(t.id, {}))
    done = [t.updated_at for t in tickets if t.id in fixed]
    return {"fixed": fixed, "completed_on": max(done) if done else None, "rectifier": last.get("rectifier"),
            "verifier": last.get("verifier")}


def _drawn(s) -> dict:
    """A signature as the signature areas draw it (documents/_macros.html signature)."""
    return {"name": s.name, "signed_at": s.signed_at, "refused": s.refused, "reason": s.reason,
            "image": rendering.data_uri(s.png, "image/png") if s.png else None}


def reply_signatures(ticket_ids) -> dict[int, dict[str, dict]]:
    """The reply slip's signatures in force per ticket and role (rectifier, verifier), as drawn: the
    last one given per role (a fix rejected and submitted again is signed again). One query."""
    return {ticket_id: {role: _drawn(s) for role, s in latest_by_role(rows).items()}
            for ticket_id, rows in signatures_by_ticket(ticket_ids).items()}


def failures_of(detail: dict) -> list[dict]:
    return [a for a in detail["answers"] if a["result"] == "fail"]


def _pdf(template: str, context: dict, language: str, config) -> bytes:
    with force_locale(locale_object(language)):
        html = render_template(template, en=language == "en", **context)
        css = render_template("documents/_print.css", **context)
    return rendering.to_pdf(html, css)


def render_inspection_report(inspection, user, config, language: str) -> Callable[[str, datetime], bytes]:
    def render(number: str, issued_at: datetime) -> bytes:
        with force_locale(locale_object(language)):
            detail = inspection_facts(inspection, user)
            lab = get_lab(inspection.lab_id)
            uuids = [p["uuid"] for a in detail["answers"] for p in a["photos"] if p["arrived"]]
            ctx = _frame(number, issued_at, lab, config, str(KIND_TITLES[K.inspection_report]))
        ctx.update(d=detail, photos=_with_photos(uuids, config), signatures=signatures_of(inspection))
        return _pdf("documents/inspection_report.html", ctx, language, config)
    return render


def notice_hazards(inspection, user) -> list[dict]:
    """Each failed answer with its ticket: the hazard, its article, its deadline (the tickets
    domain set it by severity and level when it opened the ticket, art. 29)."""
    failures = failures_of(inspection_facts(inspection, user))
    tickets = get_tickets(a["ticket_id"] for a in failures)
    return [{"answer": a, "ticket": tickets.get(a["ticket_id"])} for a in failures]


def render_notice(inspection, user, config, language: str) -> Callable[[str, datetime], bytes]:
    def render(number: str, issued_at: datetime) -> bytes:
        with force_locale(locale_object(language)):
            detail = inspection_facts(inspection, user)
            hazards = notice_hazards(inspection, user)
            lab = get_lab(inspection.lab_id)
            uuids = [p["uuid"] for h in hazards for p in h["answer"]["photos"] if p["arrived"]]
            ctx = _frame(number, issued_at, lab, config, str(KIND_TITLES[K.rectification_notice]))
        ctx.update(
            d=detail, hazards=hazards, photos=_with_photos(uuids, config), signatures=signatures_of(inspection),
            reply=notice_reply(hazards), officers=[r.name for r in notices.lab_officers(lab.id)],
            leaders=[r.name for r in notices.college_leaders(lab.college_id)],
        )
        return _pdf("documents/rectification_notice.html", ctx, language, config)
    return render


def qualifies_for_written_report(ticket) -> bool:
    """Art. 29: a major hazard, or one the lab declared it cannot fix for now, is reported in writing."""
    return ticket.severity == Severity.major or bool(ticket.cannot_fix)


def render_written_report(ticket, user, config, language: str) -> Callable[[str, datetime], bytes]:
    def render(number: str, issued_at: datetime) -> bytes:
        with force_locale(locale_object(language)):
            body = ticket_detail(ticket, user)
            lab = get_lab(ticket.lab_id)
            dept = get_department(ticket.department_id) if ticket.department_id else None
            uuids = [p["uuid"] for p in body["evidence_photos"] if p["arrived"]]
            ctx = _frame(number, issued_at, lab, config, str(KIND_TITLES[K.written_report]))
        ctx.update(
            t=body, ticket=ticket, photos=_with_photos(uuids, config), level_label=labels.level_label,
            department=pick(dept.name, dept.name_en) if dept else None,
            leaders=[r.name for r in notices.college_leaders(lab.college_id)],
        )
        return _pdf("documents/written_report.html", ctx, language, config)
    return render


def _last_event(events: list[dict], kind: str) -> dict | None:
    found = [e for e in events if e["kind"] == kind]
    return found[-1] if found else None


def render_reply(ticket, user, config, language: str) -> Callable[[str, datetime], bytes]:
    """整改回执: the notice's reply slip of one hazard whose fix was verified, filled in: the measures and
    after-photos of the fix, how it was verified, and the signatures of the lab's officer and the reviewer."""
    def render(number: str, issued_at: datetime) -> bytes:
        with force_locale(locale_object(language)):
            body = ticket_detail(ticket, user)
            lab = get_lab(ticket.lab_id)
            fix, verified = _last_event(body["events"], "submit_fix"), _last_event(body["events"], "verify")
            after = [p["uuid"] for p in (fix or {}).get("photos", []) if p["arrived"]]
            ctx = _frame(number, issued_at, lab, config, str(KIND_TITLES[K.rectification_reply]))
            notice = latest(Subject(K.rectification_notice, inspection_id=ticket.inspection_id), language) \
                if ticket.inspection_id else None
        ctx.update(
            t=body, ticket=ticket, fix=fix, verified=verified, photos=_with_photos(after, config), after=after,
            signed=reply_signatures([ticket.id]).get(ticket.id, {}), notice_number=notice.number if notice else None,
        )
        return _pdf("documents/rectification_reply.html", ctx, language, config)
    return render


def monthly_subject(month: date, college_id: int | None) -> Subject:
    return Subject(K.monthly_summary, college_id=college_id, month=month)


def page_as_document(html: str, number: str, config) -> bytes:
    """A page of the app (the monthly summary, as its own template renders it) issued as a document:
    the frame of every document (A4, the school, the number, page counters, the CJK font) over the
    page's own print CSS."""
    school = pick(config["SCHOOL_NAME"], config["SCHOOL_NAME_EN"])
    return rendering.to_pdf(html, render_template("documents/stamp.css", school=school, number=number))

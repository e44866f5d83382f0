"""The official record as PDF: the first download of a document issues and files it, later ones get
the stored bytes (art. 28-30); a document's page shows its hash so a printed copy can be checked."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accidents.services import get_accident
from app.auth.services import get_user
from app.errors import Conflict, NotFound
from app.extensions import db
from app.inspections.services import get_inspection
from app.language import reader_locale
from app.org.services import get_college
from app.policy import Action, authorize, may, scope_of
from app.reports import services as reports
from app.reports.schemas import MonthlyQuerySchema
from app.rounds import services as rounds
from app.tickets.lifecycle import get_ticket
from app.tickets.listing import visible_ticket_ids
from app.timeutil import utcnow

from . import bulk, issuing, services
from .accident_reports import render_accident_report, report_kind_of
from .models import TICKET_KINDS, DocumentKind, IssuedDocument

bp = Blueprint("documents", __name__)

KIND_NAMES = services.KIND_TITLES


def pdf_response(doc: IssuedDocument) -> Response:
    """The stored bytes, as issued; the number and hash ride along for whoever files the copy."""
    return Response(services.pdf_of(doc), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{doc.number}.pdf"',
        "X-Document-Number": doc.number,
        "X-Document-SHA256": doc.sha256,
        "ETag": f'"{doc.sha256}"',
    })


def _issue(subject, render) -> Response:
    # A GET that files a document: its one INSERT commits on a connection of its own (services.issue).
    doc = services.issue(subject, services.language_of(reader_locale()), current_user.id, current_app.config,
                         render, own_transaction=True)
    return pdf_response(doc)


def _inspection_document(inspection_id: int, subject_of, renderer, *, needs_failures: bool) -> Response:
    inspection = get_inspection(inspection_id)
    authorize(current_user, Action.DOWNLOAD_INSPECTION_DOCUMENT, inspection)
    if needs_failures and not services.failures_of(services.inspection_facts(inspection, current_user)):
        raise NotFound(_("This inspection found no hazard, so it has no rectification notice."))
    language = services.language_of(reader_locale())
    return _issue(subject_of(inspection), renderer(inspection, current_user, current_app.config, language))


@bp.get("/inspections/<int:inspection_id>/report.pdf")
@login_required
def inspection_report(inspection_id: int):
    return _inspection_document(inspection_id, services.inspection_subject, services.render_inspection_report,
                                needs_failures=False)


@bp.get("/inspections/<int:inspection_id>/notice.pdf")
@login_required
def rectification_notice(inspection_id: int):
    return _inspection_document(inspection_id, services.notice_subject, services.render_notice, needs_failures=True)


@bp.get("/tickets/<int:ticket_id>/written-report.pdf")
@login_required
def written_report(ticket_id: int):
    ticket = get_ticket(ticket_id)
    authorize(current_user, Action.DOWNLOAD_TICKET_DOCUMENT, ticket)
    if not services.qualifies_for_written_report(ticket):
        raise NotFound(_("A written report (art. 29) is made only for a major hazard or one the lab cannot fix for "
                         "now; this ticket is neither."))
    language = services.language_of(reader_locale())
    return _issue(services.written_report_subject(ticket),
                  services.render_written_report(ticket, current_user, current_app.config, language))


def _summary_college_id(college_id: int | None) -> int | None:
    """The school's summary, or one college's; a college leader or head asking for "the" summary gets
    their own college's (as the page does, art. 10(1), (2))."""
    if college_id is None and not may(current_user, Action.DOWNLOAD_SCHOOL_SUMMARY):
        s = scope_of(current_user)
        own = sorted(s.leader_colleges | s.head_colleges)
        college_id = own[0] if own else None
    if college_id is None:
        authorize(current_user, Action.DOWNLOAD_SCHOOL_SUMMARY)
    else:
        authorize(current_user, Action.DOWNLOAD_COLLEGE_SUMMARY, get_college(college_id))
    return college_id


@bp.get("/reports/monthly.pdf")
@login_required
def monthly_summary():
    args = MonthlyQuerySchema().load(request.args)
    college_id = _summary_college_id(args["college_id"])
    cfg = current_app.config
    month = args["month"] or reports.default_month(cfg)
    period = reports.period_for(month, cfg, None, cfg["LATE_SYNC_DAYS"])
    if not period.final:
        final_from = services.school_day(period.close_utc, cfg)
        raise Conflict(_("The figures of %(month)s are final from %(day)s (daily checks may still arrive until then); "
                         "its summary can be filed from that day.", month=period.label, day=final_from.isoformat()),
                       {"final_from": final_from.isoformat()})

    def render(number, issued_at):
        # The summary exactly as its own page renders it (the reports domain's views, with this request's
        # month), framed as a document: whatever the page shows, the PDF shows.
        views = current_app.view_functions
        page = views["reports.college_monthly"](college_id=college_id) if college_id else views["reports.monthly"]()
        return services.page_as_document(page, number, cfg)

    return _issue(services.monthly_subject(month, college_id), render)


# ---- a filed document ------------------------------------------------------------------------------

def authorize_document(doc: IssuedDocument) -> None:
    """Who reads what a document records may read the document."""
    if doc.kind in (DocumentKind.inspection_report, DocumentKind.rectification_notice):
        authorize(current_user, Action.DOWNLOAD_INSPECTION_DOCUMENT, doc)
    elif doc.kind in TICKET_KINDS:
        authorize(current_user, Action.DOWNLOAD_TICKET_DOCUMENT, get_ticket(doc.ticket_id))
    elif doc.accident_id is not None:  # an accident's written report (accident_views.py)
        authorize(current_user, Action.VIEW_ACCIDENT, get_accident(doc.accident_id))
    elif doc.college_id is None:
        authorize(current_user, Action.DOWNLOAD_SCHOOL_SUMMARY)
    else:
        authorize(current_user, Action.DOWNLOAD_COLLEGE_SUMMARY, get_college(doc.college_id))


@bp.get("/documents/<int:document_id>")
@login_required
def document_page(document_id: int):
    doc = services.get_document(document_id)
    authorize_document(doc)
    issuer = get_user(doc.issued_by_id) if doc.issued_by_id else None
    return render_template("documents/document.html", doc=doc, kind_name=KIND_NAMES[doc.kind], issuer=issuer,
                           replaced_by=services.replaced_by(doc))


@bp.get("/documents/<int:document_id>.pdf")
@login_required
def document_pdf(document_id: int):
    doc = services.get_document(document_id)
    authorize_document(doc)
    return pdf_response(doc)


@bp.post("/documents/<int:document_id>/reissue")
@login_required
def reissue(document_id: int):
    """Render the document again from today's data and file it as a new document naming this one; this one
    stays as filed (art. 30)."""
    doc = services.get_document(document_id)
    authorize(current_user, Action.REISSUE_DOCUMENT, doc)
    new = services.reissue(doc, current_user.id, current_app.config, _renderer_of(doc))
    # Sent again as the first issue was (a notice, a written report, a reply); then committed.
    if issuing.resend(new, current_app.config):
        db.session.commit()
    flash(_("Re-issued as %(number)s; %(old)s stays on file as it was issued.", number=new.number, old=doc.number))
    return redirect(url_for(".document_page", document_id=new.id))


def _renderer_of(doc: IssuedDocument):
    cfg, language = current_app.config, doc.language
    if doc.kind == DocumentKind.inspection_report:
        return services.render_inspection_report(get_inspection(doc.inspection_id), current_user, cfg, language)
    if doc.kind == DocumentKind.rectification_notice:
        return services.render_notice(get_inspection(doc.inspection_id), current_user, cfg, language)
    if doc.kind == DocumentKind.written_report:
        return services.render_written_report(get_ticket(doc.ticket_id), current_user, cfg, language)
    if doc.kind == DocumentKind.rectification_reply:
        return services.render_reply(get_ticket(doc.ticket_id), current_user, cfg, language)
    if doc.accident_id is not None:  # filed reports never change: render the same facts again
        return render_accident_report(get_accident(doc.accident_id), report_kind_of(doc.kind), cfg, language)
    # A summary is filed only once its month is final (monthly_summary above): its figures no longer change.
    raise Conflict(_("A monthly summary is filed once its month is final, and its figures do not change after "
                     "that: there is nothing to re-issue."))


# ---- every document of a month or a round, as one ZIP (streamed) ------------------------------------------

def _zip_response(entries: list[bulk.Entry], filename: str) -> Response:
    """Streamed: each document's bytes are read and sent in turn (bulk.stream_zip). No documents: a ZIP with
    the manifest alone."""
    return Response(bulk.stream_zip(entries, utcnow(), db.engine), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{bulk.safe_name(filename)}"',
        "X-Document-Count": str(len(entries)),
    })


@bp.get("/colleges/<int:college_id>/documents.zip")
@login_required
def college_documents_zip(college_id: int):
    college = get_college(college_id)
    authorize(current_user, Action.DOWNLOAD_DOCUMENTS_BULK, college)
    month = reports.parse_month(request.args.get("month"))
    entries = bulk.month_entries(current_user, college.id, month, current_app.config)
    return _zip_response(entries, f"{college.code}-{month:%Y-%m}-documents.zip")


@bp.get("/rounds/<int:round_id>/documents.zip")
@login_required
def round_documents_zip(round_id: int):
    r = rounds.get_round(round_id)
    authorize(current_user, Action.DOWNLOAD_DOCUMENTS_BULK, rounds.facts_of(r))
    return _zip_response(bulk.round_entries(current_user, r.id), f"round-{r.id}-documents.zip")


@bp.app_template_global("documents_zip_url")
def documents_zip_url(college=None, month: str | None = None, round_id: int | None = None) -> str | None:
    """For the college's monthly summary page and the round page: the ZIP of their documents, if this user
    may download it."""
    if round_id is not None:
        if may(current_user, Action.DOWNLOAD_DOCUMENTS_BULK, rounds.facts_of(rounds.get_round(round_id))):
            return url_for("documents.round_documents_zip", round_id=round_id)
        return None
    if college is not None and month and may(current_user, Action.DOWNLOAD_DOCUMENTS_BULK, college):
        return url_for("documents.college_documents_zip", college_id=college.id, month=month)
    return None


# ---- the documents on the lab, inspection and ticket pages --------------------------------------------

def readable_lab_documents(lab) -> list[IssuedDocument]:
    """A lab's documents this user may read: all of them for a reader of the lab, but a ticket's (a written
    report, a reply) only to readers of its ticket (a department follows its own remit's tickets, art. 9)."""
    docs = services.lab_documents(lab.id)
    readable = visible_ticket_ids(current_user, [d.ticket_id for d in docs if d.kind in TICKET_KINDS])
    return [d for d in docs if d.kind not in TICKET_KINDS or d.ticket_id in readable]


@bp.app_template_global("lab_documents_section")
def lab_documents_section(lab) -> dict:
    """For templates/org/lab.html (documents/_lab_section.html): the lab's documents, if this user may list them."""
    if not may(current_user, Action.LIST_LAB_DOCUMENTS, lab):
        return {"show": False, "documents": []}
    return {"show": True, "documents": readable_lab_documents(lab), "kind_names": KIND_NAMES}


@bp.app_template_global("inspection_document_links")
def inspection_document_links(inspection_id: int, lab_id: int, failures: int) -> list[tuple[str, str]]:
    """For templates/inspections/inspection.html: its record, and its notice when it found hazards."""
    if not may(current_user, Action.DOWNLOAD_INSPECTION_DOCUMENT, services.LabPlace(lab_id)):
        return []
    links = [(str(KIND_NAMES[DocumentKind.inspection_report]),
              url_for("documents.inspection_report", inspection_id=inspection_id))]
    if failures:
        links.append((str(KIND_NAMES[DocumentKind.rectification_notice]),
                      url_for("documents.rectification_notice", inspection_id=inspection_id)))
    return links


@bp.app_template_global("ticket_documents_section")
def ticket_documents_section(ticket_id: int) -> dict:
    """For templates/tickets/ticket.html: its written report (art. 29) when it qualifies, and the ones filed
    (its reply, 整改回执, once the fix was verified)."""
    ticket = get_ticket(ticket_id)
    if not may(current_user, Action.DOWNLOAD_TICKET_DOCUMENT, ticket):
        return {"show": False}
    qualifies = services.qualifies_for_written_report(ticket)
    documents = services.ticket_documents(ticket.id)
    if not (qualifies or documents):
        return {"show": False}
    return {"show": True, "documents": documents, "kind_names": KIND_NAMES,
            "issue_url": url_for("documents.written_report", ticket_id=ticket.id) if qualifies else None}

"""Hazard reports (issue 24, art. 30): report, list in scope, open a ticket from one, close one.

Plain arguments (user, data, config); no Flask request here. A report is recorded with its
"reported" event and the notices to the lab's officers and the college's leaders in one commit;
a replay of the same ``client_uuid`` records nothing new. Opening a ticket goes through the tickets'
own service (tickets.lifecycle.create_ticket): the report keeps the ticket's id, the ticket's
description names the report.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid as uuidlib
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.services import get_user
from app.checklists.models import Severity
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.notifications import services as notices
from app.org.models import Lab
from app.org.services import get_lab, lab_ref_by_token
from app.photos import services as photo_services
from app.photos.models import Photo
from app.policy import Action, hazard_report_clause, may
from app.tickets import lifecycle
from app.timeutil import utcnow

from .models import HazardReport, HazardReportEvent, HazardReportPhoto, ReportState

# Notice kinds (app.notifications names them; the title is the report's lab and text).
REPORTED, REPORT_TICKETED, REPORT_CLOSED = notices.HAZARD_REPORTED, notices.HAZARD_TICKETED, notices.HAZARD_CLOSED

MAX_ID = 2**31 - 1
LIST_LIMIT = 200


def report_link(report_id: int) -> str:
    return f"/hazards/{report_id}"


def _normalise_uuid(value, field: str = "client_uuid") -> str:
    try:
        return str(uuidlib.UUID(str(value).strip()))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(_("%(field)s must be a UUID.", field=field), {"fields": {field: ["invalid"]}}) from None


def _clean_text(text: str, config: dict) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Describe the hazard."), {"fields": {"text": ["required"]}})
    limit = config["HAZARD_TEXT_MAX"]
    if len(text) > limit:
        raise InvalidInput(_("Describe the hazard in at most %(n)s characters.", n=limit),
                           {"fields": {"text": ["too_long"]}})
    return text


def _photo_uuids(photos, user, limit: int) -> list[str]:
    """The report's photo UUIDs, in order, each once, at most ``limit``. A photo already stored must be
    this user's upload, and a UUID another user's record waits for is refused (photos' own rule)."""
    wanted = list(dict.fromkeys(_normalise_uuid(p, "photos") for p in (photos or [])))
    if len(wanted) > limit:
        raise InvalidInput(_("Attach at most %(n)s photos.", n=limit), {"fields": {"photos": ["too_many"]}})
    if not wanted:
        return []
    uploaders = dict(db.session.execute(select(Photo.uuid, Photo.uploaded_by_id).where(Photo.uuid.in_(wanted))).all())
    refused = [u for u, by in uploaders.items() if by != user.id]
    refused += photo_services.waiting_for_others([u for u in wanted if u not in uploaders], user)
    if refused:
        raise InvalidInput(_("Attach only photos you took yourself."), {"foreign_photos": refused})
    return wanted


def get_report(report_id: int) -> HazardReport:
    report = db.session.get(HazardReport, report_id) if 0 < report_id <= MAX_ID else None
    if report is None:
        raise NotFound(_("No such hazard report."))
    return report


def _by_uuid(client_uuid: str) -> HazardReport | None:
    return db.session.scalar(select(HazardReport).where(HazardReport.client_uuid == client_uuid))


def _replay(existing: HazardReport, reporter_id: int | None, lab_id: int) -> HazardReport:
    if existing.reporter_id != reporter_id or existing.lab_id != lab_id:
        raise Conflict(_("This client_uuid was already used for another report; make a new UUID for each report."),
                       {"client_uuid": existing.client_uuid})
    return existing


@dataclass
class Recorded:
    report: HazardReport
    created: bool  # False: a replay of a report already recorded


def create_report(user, *, lab_id: int, text: str, photos=(), client_uuid, config: dict) -> Recorded:
    """Record ``user``'s report of a hazard in a lab (art. 30), or find it again (same client_uuid). Commits."""
    client_uuid = _normalise_uuid(client_uuid)
    existing = _by_uuid(client_uuid)
    if existing is not None:
        return Recorded(_replay(existing, user.id, lab_id), created=False)
    lab = get_lab(lab_id)
    text = _clean_text(text, config)
    uuids = _photo_uuids(photos, user, config["HAZARD_MAX_PHOTOS"])
    return _record(lab, text, uuids, client_uuid, reporter_id=user.id, receipt_hash=None, config=config)


def _record(lab: Lab, text: str, uuids: list[str], client_uuid: str, *, reporter_id, receipt_hash, config) -> Recorded:
    now = utcnow()
    report = HazardReport(lab_id=lab.id, reporter_id=reporter_id, receipt_hash=receipt_hash, client_uuid=client_uuid,
                          text=text, state=ReportState.open, close_reason="", created_at=now,
                          anonymous=reporter_id is None)
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:
        # The same report sent twice at once: the other copy won; answer as its replay.
        db.session.rollback()
        existing = _by_uuid(client_uuid)
        if existing is None:  # pragma: no cover - an integrity error of another kind
            raise
        return Recorded(_replay(existing, reporter_id, lab.id), created=False)
    db.session.add_all([HazardReportPhoto(report_id=report.id, photo_uuid=u, position=i) for i, u in enumerate(uuids)])
    db.session.add(HazardReportEvent(report_id=report.id, at=now, by_id=reporter_id, what="reported",
                                     detail={"photos": len(uuids), "anonymous": reporter_id is None}))
    facts = _facts(report, lab)
    common = dict(kind=REPORTED, facts=facts, config=config, body=text, link=report_link(report.id), lab_id=lab.id,
                  params={"report_id": report.id}, dedupe_key=f"hazard:{report.id}:reported")
    notices.notify(notices.lab_officers(lab.id) + notices.college_leaders(lab.college_id),
                   exclude_user_id=reporter_id, **common)
    db.session.commit()
    return Recorded(report, created=True)


def _facts(report: HazardReport, lab) -> notices.TitleFacts:
    excerpt = report.text if len(report.text) <= 80 else report.text[:79] + "…"
    # The notice's stored title (notices of kinds the notifications domain does not render per reader).
    return notices.TitleFacts(lab=lab.name, lab_en=getattr(lab, "name_en", None),
                              title=f"{lab.name} · #{report.id} · {excerpt}")


# ---- without an account (HAZARD_ANONYMOUS_REPORTS) ---------------------------------------------

def receipt_token(client_uuid: str, secret: str) -> str:
    """The receipt an anonymous reporter keeps: derived from the form's UUID with the app's secret, so a
    form sent twice gets the same receipt; only its SHA-256 is stored."""
    return hmac.new(secret.encode(), f"hazard-receipt:{client_uuid}".encode(), hashlib.sha256).hexdigest()[:32]


def _receipt_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_NOBODY = SimpleNamespace(id=None, is_authenticated=False)


def create_anonymous_report(*, qr_token: str, text: str, photo_files: list[bytes], client_uuid,
                            config: dict) -> tuple[Recorded, str]:
    """A report from someone at the door without an account: only through the door's QR token (the person
    stood there), text and a few small photos, stored through the photo pipeline. Returns the report
    and its receipt token (which shows that report's outcome and nothing else). Commits."""
    if not config.get("HAZARD_ANONYMOUS_REPORTS"):
        raise Forbidden(_("Reports without an account are not accepted here: please log in."))
    client_uuid = _normalise_uuid(client_uuid)
    lab_ref = lab_ref_by_token(qr_token)
    token = receipt_token(client_uuid, config["SECRET_KEY"])
    existing = _by_uuid(client_uuid)
    if existing is not None:
        return Recorded(_replay(existing, None, lab_ref.id), created=False), token
    text = _clean_text(text, config)
    files = [f for f in photo_files if f]
    if len(files) > config["HAZARD_ANONYMOUS_MAX_PHOTOS"]:
        raise InvalidInput(_("Attach at most %(n)s photos.", n=config["HAZARD_ANONYMOUS_MAX_PHOTOS"]),
                           {"fields": {"photos": ["too_many"]}})
    limit = config["HAZARD_ANONYMOUS_PHOTO_BYTES"]
    if any(len(f) > limit for f in files):
        raise InvalidInput(_("Each photo may be at most %(mb)s MB.", mb=round(limit / 1024 / 1024, 1)),
                           {"fields": {"photos": ["too_large"]}})
    # Each photo's UUID follows from the form's, so a form sent twice stores each photo once.
    uuids = [str(uuidlib.uuid5(uuidlib.UUID(client_uuid), str(i))) for i in range(len(files))]
    for u, data in zip(uuids, files, strict=True):
        photo_services.store_photo(_NOBODY, u, data, config)  # commits the photo (pruned if the report fails)
    lab = get_lab(lab_ref.id)
    return _record(lab, text, uuids, client_uuid, reporter_id=None, receipt_hash=_receipt_hash(token),
                   config=config), token


def report_by_receipt(token: str) -> HazardReport:
    report = db.session.scalar(select(HazardReport).where(HazardReport.receipt_hash == _receipt_hash(token or "")))
    if report is None:
        raise NotFound(_("No report has this receipt."))
    return report


def new_receipt_uuid() -> str:
    """The anonymous form's UUID, made when the form is shown."""
    return str(uuidlib.UUID(bytes=secrets.token_bytes(16), version=4))


# ---- reading ----------------------------------------------------------------------------------

def list_reports(user, *, state: str | None = None, lab_id: int | None = None, mine: bool = False,
                 limit: int = LIST_LIMIT, offset: int = 0) -> list[tuple[HazardReport, Lab]]:
    """The reports ``user`` may see (the policy's clause), newest first, with their labs; one query."""
    stmt = (select(HazardReport, Lab).join(Lab, Lab.id == HazardReport.lab_id)
            .where(hazard_report_clause(user, reporter_id=HazardReport.reporter_id, lab_id=HazardReport.lab_id,
                                        college_id=Lab.college_id)))
    if state:
        stmt = stmt.where(HazardReport.state == ReportState(state))
    if lab_id:
        stmt = stmt.where(HazardReport.lab_id == lab_id)
    if mine:
        stmt = stmt.where(HazardReport.reporter_id == user.id)
    stmt = stmt.order_by(HazardReport.id.desc()).limit(limit).offset(offset)
    return [(r, lab) for r, lab in db.session.execute(stmt).all()]


def origin_of_ticket(ticket_id: int) -> HazardReport | None:
    """The report a ticket was opened from (the ticket's page links back to it)."""
    return db.session.scalar(select(HazardReport).where(HazardReport.ticket_id == ticket_id))


# ---- triage -----------------------------------------------------------------------------------

def _triageable(user, report_id: int) -> HazardReport:
    report = get_report(report_id)
    if not may(user, Action.VIEW_HAZARD_REPORT, report):
        raise Forbidden(_("You may not see this hazard report."))
    if not may(user, Action.TRIAGE_HAZARD_REPORT, report):
        raise Forbidden(_("Only the lab's safety officers and the college's leaders act on its hazard reports."))
    if report.state != ReportState.open:
        raise Conflict(_("This report was already handled."),
                       {"state": report.state.value, "ticket_id": report.ticket_id})
    return report


def _tell_reporter(report: HazardReport, kind: str, lab, config: dict, body: str, by_id: int) -> None:
    if report.reporter_id is None:
        return  # without an account: the receipt page shows the outcome
    notices.notify([get_user(report.reporter_id)], kind=kind, facts=_facts(report, lab), config=config, body=body,
                   link=report_link(report.id), lab_id=report.lab_id, params={"report_id": report.id},
                   dedupe_key=f"hazard:{report.id}:{kind}", exclude_user_id=by_id)


def _claim(report: HazardReport, user, state: ReportState, **values) -> None:
    """Move an open report to ``state`` with one conditional UPDATE: of two people acting on it at once,
    the second finds it handled (409) and changes nothing."""
    now = utcnow()
    done = db.session.execute(
        update(HazardReport).where(HazardReport.id == report.id, HazardReport.state == ReportState.open)
        .values(state=state, handled_by_id=user.id, handled_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_("This report was already handled."))
    db.session.refresh(report)


def open_ticket(user, report_id: int, *, article: str, severity: str, title: str | None, config: dict) -> HazardReport:
    """Open a rectification ticket from a report (tickets' own service: routed, deadlined and notified as any
    ticket), link both ways, tell the reporter. Commits."""
    report = _triageable(user, report_id)
    lab = get_lab(report.lab_id)
    title = (title or "").strip() or report.text.splitlines()[0][:200]
    _claim(report, user, ReportState.ticketed)
    description = _("From hazard report #%(id)s: %(text)s", id=report.id, text=report.text)
    ticket = lifecycle.create_ticket(lab=lab, article=article, title=title, severity=Severity(severity), config=config,
                                     actor_id=user.id, description=description)
    report.ticket_id = ticket.id
    db.session.add(HazardReportEvent(report_id=report.id, at=report.handled_at, by_id=user.id, what="ticket_opened",
                                     detail={"ticket_id": ticket.id, "article": article, "severity": severity}))
    _tell_reporter(report, REPORT_TICKETED, lab, config, ticket.title, user.id)
    db.session.commit()
    return report


def close_report(user, report_id: int, *, reason: str, config: dict) -> HazardReport:
    """Close a report with a reason (not a hazard, already rectified, a duplicate...); tell the reporter. Commits."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for closing this report."), {"fields": {"reason": ["required"]}})
    if len(reason) > config["HAZARD_TEXT_MAX"]:
        raise InvalidInput(_("Give the reason in at most %(n)s characters.", n=config["HAZARD_TEXT_MAX"]),
                           {"fields": {"reason": ["too_long"]}})
    report = _triageable(user, report_id)
    _claim(report, user, ReportState.closed, close_reason=reason)
    db.session.add(HazardReportEvent(report_id=report.id, at=report.handled_at, by_id=user.id, what="closed",
                                     detail={"reason": reason}))
    _tell_reporter(report, REPORT_CLOSED, get_lab(report.lab_id), config, reason, user.id)
    db.session.commit()
    return report


# ---- photos (registered with photos.services.attach_with by create_app) ----------------------

def labs_of_report_photo(photo: Photo):
    """The labs a photo is evidence for through hazard reports (a SELECT of lab ids)."""
    return (select(HazardReport.lab_id).join(HazardReportPhoto, HazardReportPhoto.report_id == HazardReport.id)
            .where(HazardReportPhoto.photo_uuid == photo.uuid))


def reporters_of_photo(photo_uuid: str):
    """Who recorded a reference to this photo UUID in a report (only they fill it)."""
    return (select(HazardReport.reporter_id).join(HazardReportPhoto, HazardReportPhoto.report_id == HazardReport.id)
            .where(HazardReportPhoto.photo_uuid == photo_uuid, HazardReport.reporter_id.is_not(None)))

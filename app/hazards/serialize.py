"""Hazard reports as JSON-ready dicts (shared by the API and the pages)."""
from __future__ import annotations

from app.extensions import db
from app.language import pick
from app.org.models import Lab
from app.photos.services import photos_by_uuid, urls_for
from app.policy import Action, may

from . import labels
from .models import HazardReport, ReportState
from .schemas import HazardReportDetailSchema, HazardReportSchema
from .services import report_link


def report_body(report: HazardReport, lab: Lab, user) -> dict:
    return {
        "id": report.id, "lab_id": report.lab_id, "lab_name": pick(lab.name, lab.name_en),
        "reporter_id": report.reporter_id,
        "mine": report.reporter_id is not None and report.reporter_id == getattr(user, "id", None),
        "text": report.text, "state": report.state, "state_label": labels.state_label(report.state),
        "ticket_id": report.ticket_id, "ticket_url": f"/tickets/{report.ticket_id}" if report.ticket_id else None,
        "close_reason": report.close_reason or "", "created_at": report.created_at, "handled_at": report.handled_at,
        "url": report_link(report.id),
    }


def reports_list(rows, user) -> list[dict]:
    return HazardReportSchema(many=True).dump([report_body(r, lab, user) for r, lab in rows])


def allowed_actions(user, report: HazardReport) -> list[str]:
    if report.state != ReportState.open or not may(user, Action.TRIAGE_HAZARD_REPORT, report):
        return []
    return ["open_ticket", "close"]


def report_detail(report: HazardReport, user) -> dict:
    body = report_body(report, db.session.get(Lab, report.lab_id), user)
    uuids = [p.photo_uuid for p in report.photos]
    here = photos_by_uuid(uuids)
    body["photos"] = [{"uuid": u, "arrived": u in here, **({k: v for k, v in urls_for(u).items() if k != "original_url"}
                                                           if u in here else {"thumb_url": None, "display_url": None})}
                      for u in uuids]
    body["events"] = [{"what": e.what, "at": e.at, "by_id": e.by_id, "detail": e.detail or {}} for e in report.events]
    body["allowed_actions"] = allowed_actions(user, report)
    return HazardReportDetailSchema().dump(body)

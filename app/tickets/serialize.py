"""Tickets as JSON-ready dicts (shared by the API and the pages), with no query per ticket."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.org.models import Department, Lab
from app.timeutil import utcnow

from . import services
from .schemas import TicketDetailSchema, TicketSchema


def photo_ref(uuid: str) -> dict:
    # Served by the photos domain (issue 4): thumbnails and display size for readers of the lab.
    return {"uuid": uuid, "thumb_url": f"/photos/{uuid}/thumb", "display_url": f"/photos/{uuid}/display"}


def _plain(ticket, lab, dept, now) -> dict:
    return {
        "id": ticket.id, "lab_id": ticket.lab_id, "lab_name": lab.name if lab else "",
        "college_id": lab.college_id if lab else None, "inspection_id": ticket.inspection_id,
        "article": ticket.article, "title": ticket.title, "description": ticket.description or "",
        "severity": ticket.severity.value, "state": ticket.state.value, "level": ticket.level.value,
        "department": {"id": dept.id, "code": dept.code, "name": dept.name} if dept else None,
        "deadline": ticket.deadline, "overdue": services.is_overdue(ticket, now), "cannot_fix": bool(ticket.cannot_fix),
        "interim_measures": ticket.interim_measures or "", "fixed_by_id": ticket.fixed_by_id,
        "created_at": ticket.created_at, "updated_at": ticket.updated_at, "closed_at": ticket.closed_at,
        "escalated_at": ticket.escalated_at, "version": ticket.version, "url": services.ticket_link(ticket),
    }


def tickets_list(tickets) -> list[dict]:
    lab_ids = {t.lab_id for t in tickets}
    dept_ids = {t.department_id for t in tickets if t.department_id}
    labs = {l.id: l for l in db.session.scalars(select(Lab).where(Lab.id.in_(lab_ids)))} if lab_ids else {}
    depts = {d.id: d for d in db.session.scalars(select(Department).where(Department.id.in_(dept_ids)))} if dept_ids else {}
    now = utcnow()
    rows = [_plain(t, labs.get(t.lab_id), depts.get(t.department_id), now) for t in tickets]
    return TicketSchema(many=True).dump(rows)


def ticket_detail(ticket, user) -> dict:
    lab = db.session.get(Lab, ticket.lab_id)
    dept = db.session.get(Department, ticket.department_id) if ticket.department_id else None
    body = _plain(ticket, lab, dept, utcnow())
    body["events"] = [
        {
            "id": e["event"].id, "kind": e["event"].kind,
            "actor": {"id": e["event"].actor_id, "name": e["actor_name"]} if e["event"].actor_id else None,
            "created_at": e["event"].created_at, "from_state": e["event"].from_state, "to_state": e["event"].to_state,
            "from_level": e["event"].from_level, "to_level": e["event"].to_level, "note": e["event"].note or "",
            "photos": [photo_ref(u) for u in e["photos"]],
        }
        for e in services.events_with_photos(ticket)
    ]
    body["evidence_photos"] = [photo_ref(u) for u in services.evidence_photo_uuids(ticket)]
    body["allowed_actions"] = services.allowed_actions(user, ticket)
    return TicketDetailSchema().dump(body)

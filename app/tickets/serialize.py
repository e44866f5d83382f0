"""Tickets as JSON-ready dicts (shared by the API and the pages), with no query per ticket."""
from __future__ import annotations

from datetime import UTC

from app.extensions import db
from app.language import pick, reader_locale
from app.org.models import Department, Lab
from app.timeutil import utcnow

from . import escalation, events, labels, lifecycle, listing, signatures
from .schemas import TicketDetailSchema


def photo_ref(uuid: str, arrived: bool = True) -> dict:
    """A photo an event or answer refers to. Served by the photos domain (thumbnails and display size
    for readers of the lab) once it has arrived; until then no URLs: the page shows "evidence arriving"."""
    if not arrived:
        return {"uuid": uuid, "arrived": False, "thumb_url": None, "display_url": None}
    return {"uuid": uuid, "arrived": True, "thumb_url": f"/photos/{uuid}/thumb",
            "display_url": f"/photos/{uuid}/display"}


def _utc_iso(value):
    """What schemas.UtcDateTime writes, without a field object: naive UTC -> ISO 8601 with a Z."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.isoformat() + "Z"
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _same(value):
    return value


def listing_body(values, now, when=_same, locale: str | None = None) -> dict:
    """A ticket's listing fields from its values in the order of listing._LISTING's columns (a row of
    listing.ticket_rows_in_scope, or _entity_values). Unpacked by position: a Row's attribute access
    costs ~1 us, and 200 tickets x 23 fields add up. ``when`` formats the datetimes: left as they are
    for a schema to dump, or _utc_iso for JSON as TicketSchema writes it. ``locale``: the reader's language
    (default: the request's), which picks the title and the lab's name (app.language.pick)."""
    (tid, lab_id, lab_name, college_id, inspection_id, article, title, description, severity, state, level,
     deadline, cannot_fix, interim_measures, fixed_by_id, created_at, updated_at, closed_at, escalated_at,
     version, dept_id, dept_code, dept_name, title_en, lab_name_en) = values
    # Keys in sorted order: the JSON provider sorts them (sort_keys), which is cheapest on sorted input.
    return {
        "article": article, "cannot_fix": bool(cannot_fix), "closed_at": when(closed_at), "college_id": college_id,
        "created_at": when(created_at), "deadline": when(deadline),
        "department": {"code": dept_code, "id": dept_id, "name": dept_name} if dept_id is not None else None,
        "description": description or "", "escalated_at": when(escalated_at), "fixed_by_id": fixed_by_id,
        "id": tid, "inspection_id": inspection_id, "interim_measures": interim_measures or "", "lab_id": lab_id,
        "lab_name": pick(lab_name, lab_name_en, locale), "level": level,
        "overdue": escalation.overdue(state, deadline, now),
        "severity": severity, "state": state, "title": pick(title, title_en, locale), "updated_at": when(updated_at),
        "url": escalation.link_for(tid),
        "version": version,
    }


def _entity_values(t, lab, dept) -> tuple:
    """A ticket entity (with its lab and department, either may be None) as listing._LISTING's columns."""
    return (
        t.id, t.lab_id, lab.name if lab else "", lab.college_id if lab else None, t.inspection_id, t.article,
        t.title, t.description, t.severity.value, t.state.value, t.level.value, t.deadline, t.cannot_fix,
        t.interim_measures, t.fixed_by_id, t.created_at, t.updated_at, t.closed_at, t.escalated_at, t.version,
        dept.id if dept else None, dept.code if dept else None, dept.name if dept else None, t.title_en,
        lab.name_en if lab else None,
    )


def _plain(ticket, lab, dept, now, when=_same) -> dict:
    return listing_body(_entity_values(ticket, lab, dept), now, when)


def ticket_rows_list(rows, now=None) -> list[dict]:
    """listing.ticket_rows_in_scope rows as TicketSchema(many=True) dumps them, without marshmallow (its
    field objects cost more than the rest of the request for 200 tickets). tests/tickets/test_listing_fast.py
    proves the output equal to the schema's dump."""
    now = now or utcnow()
    locale = reader_locale()  # once, not per ticket
    return [listing_body(r, now, _utc_iso, locale) for r in rows]


def tickets_page(user, **filters) -> list[dict]:
    """The tickets ``user`` may see (listing.tickets_in_scope's filters, order, limit), JSON-ready; one query."""
    return ticket_rows_list(listing.ticket_rows_in_scope(user, **filters))


def tickets_with_more(user, *, limit: int, offset: int = 0, **filters) -> tuple[list[dict], bool]:
    """One page of ``tickets_page`` and whether a next page exists: the query asks for ``limit + 1`` rows, so
    knowing there is more costs no COUNT query (the extra row is dropped)."""
    rows = listing.ticket_rows_in_scope(user, limit=limit + 1, offset=offset, **filters)
    return ticket_rows_list(rows[:limit]), len(rows) > limit


def ticket_detail(ticket, user) -> dict:
    lab = db.session.get(Lab, ticket.lab_id)
    dept = db.session.get(Department, ticket.department_id) if ticket.department_id else None
    body = _plain(ticket, lab, dept, utcnow())
    signed = signatures.signed_events(ticket.id)
    body["events"] = [
        {
            "id": e["event"].id, "kind": e["event"].kind, "label": labels.event_label(e["event"].kind),
            "actor": {"id": e["event"].actor_id, "name": e["actor_name"]} if e["event"].actor_id else None,
            "created_at": e["event"].created_at, "from_state": e["event"].from_state, "to_state": e["event"].to_state,
            "from_level": e["event"].from_level, "to_level": e["event"].to_level,
            "note": labels.event_note(e["event"].note, e["event"].note_key, e["event"].note_params),
            "photos": [photo_ref(u, got) for u, got in e["photos"]],
            "signature": signed.get(e["event"].id),
        }
        for e in events.events_with_photos(ticket)
    ]
    before = events.evidence_photo_uuids(ticket)
    here = events.arrived(before)
    body["evidence_photos"] = [photo_ref(u, u in here) for u in before]
    body["allowed_actions"] = lifecycle.allowed_actions(user, ticket)
    return TicketDetailSchema().dump(body)

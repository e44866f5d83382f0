"""A ticket's history (art. 30): recording events, reading the timeline and its photos, and the
values a ticket had at a past moment, read from its events."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import String, func, insert, select, type_coerce

from app.auth.models import User
from app.extensions import db
from app.photos.models import Photo
from app.timeutil import utcnow

from .labels import value_of
from .models import RectificationTicket, TicketEvent, TicketEventPhoto


def record_event(ticket: RectificationTicket, kind: str, actor_id: int | None, *, from_state=None, from_level=None,
            note: str = "", note_key: str | None = None, note_params: dict | None = None, photo_uuids=(),
            when: datetime | None = None, client_uuid: str | None = None) -> TicketEvent:
    ev = TicketEvent(
        ticket=ticket, actor_id=actor_id, kind=kind,
        from_state=value_of(from_state), to_state=value_of(ticket.state),
        from_level=value_of(from_level), to_level=value_of(ticket.level), to_deadline=ticket.deadline,
        note=note or "", note_key=note_key, note_params=note_params if note_key else None,
        created_at=when or utcnow(), client_uuid=client_uuid,
    )
    db.session.add(ev)
    for position, photo_uuid in enumerate(photo_uuids):
        ev.photos.append(TicketEventPhoto(photo_uuid=photo_uuid, position=position))
    return ev


EVENT_INSERT = insert(TicketEvent.__table__)


def events_with_photos(ticket: RectificationTicket) -> list[dict]:
    """The timeline: every event with its actor's name and its photos as (UUID, arrived) pairs, in order
    (two queries). A photo not arrived yet is one the event refers to whose upload is still on its way."""
    rows = db.session.execute(
        select(TicketEvent, User.name).outerjoin(User, User.id == TicketEvent.actor_id)
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).all()
    photos: dict[int, list[tuple[str, bool]]] = {}
    for event_id, uuid, photo_id in db.session.execute(
        select(TicketEventPhoto.event_id, TicketEventPhoto.photo_uuid, Photo.id)
        .outerjoin(Photo, Photo.uuid == TicketEventPhoto.photo_uuid)
        .join(TicketEvent, TicketEvent.id == TicketEventPhoto.event_id)
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEventPhoto.event_id, TicketEventPhoto.position)
    ):
        photos.setdefault(event_id, []).append((uuid, photo_id is not None))
    return [
        {"event": ev, "actor_name": name, "photos": photos.get(ev.id, [])}
        for ev, name in rows
    ]


# The inspection that opened a ticket owns its before-photos, and inspections sit above tickets:
# create_app hands over how to read them (an answer id -> its photos' UUIDs, in order).
_answer_photo_uuids: Callable[[int], list[str]] | None = None


def read_evidence_with(reader: Callable[[int], list[str]]) -> None:
    """Wire the reader of a failed answer's photos (inspections.services.answer_photo_uuids)."""
    global _answer_photo_uuids
    _answer_photo_uuids = reader


def evidence_photo_uuids(ticket: RectificationTicket) -> list[str]:
    """The photos the inspector attached to the failed answer (before-photos)."""
    if ticket.answer_id is None:
        return []
    if _answer_photo_uuids is None:
        raise RuntimeError("create_app wires read_evidence_with before tickets are shown")
    return _answer_photo_uuids(ticket.answer_id)


def arrived(uuids) -> set[str]:
    """Which of these photo UUIDs have a stored photo (one query; none when there are no UUIDs)."""
    uuids = list(dict.fromkeys(uuids))
    if not uuids:
        return set()
    return set(db.session.scalars(select(Photo.uuid).where(Photo.uuid.in_(uuids))))


def _in_force_at(column, as_of):
    """The ticket's ``column`` value set by its latest event before ``as_of`` (correlated to
    RectificationTicket); NULL when no such event recorded it."""
    E = TicketEvent
    return (
        select(column)
        .where(E.ticket_id == RectificationTicket.id, E.created_at < as_of, column.is_not(None))
        .order_by(E.created_at.desc(), E.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def deadline_as_of(as_of):
    """SQL expression: the ticket's deadline in force at ``as_of``, read from its events (art. 30 keeps
    them), so a past month's end is judged by the deadline the ticket had then, not the one a later
    escalation gave it. Events from before deadlines were recorded fall back to today's deadline."""
    return func.coalesce(_in_force_at(TicketEvent.to_deadline, as_of), RectificationTicket.deadline)


def level_as_of(as_of):
    """SQL expression: the ticket's level (lab, college, school) at ``as_of``, from its events."""
    return func.coalesce(_in_force_at(TicketEvent.to_level, as_of), type_coerce(RectificationTicket.level, String))


def _of_events_showing(column, photo_uuid: str):
    return (
        select(column)
        .select_from(RectificationTicket)
        .join(TicketEvent, TicketEvent.ticket_id == RectificationTicket.id)
        .join(TicketEventPhoto, TicketEventPhoto.event_id == TicketEvent.id)
        .where(TicketEventPhoto.photo_uuid == photo_uuid)
    )


def labs_of_event_photo(photo):
    """The labs whose tickets have an event showing this photo (a SELECT of lab ids; registered with
    photos by create_app)."""
    return _of_events_showing(RectificationTicket.lab_id, photo.uuid)


def actors_of_event_photo(photo_uuid: str):
    """Who recorded a ticket event referring to this photo UUID (a SELECT of user ids; registered with
    photos by create_app): only they may upload a photo under it, arriving after the event."""
    return _of_events_showing(TicketEvent.actor_id, photo_uuid)

"""Rectification tickets (整改单): the lifecycle (art. 29, 30).

State machine (``TRANSITIONS`` below is the single source of truth)::

    open --start_fix--> fixing --submit_fix--> fix_submitted --verify--> closed
                          ^                          |
                          +----------reject----------+
    open|fixing --declare_cannot_fix--> fixing   (interim measures; level at least college)
    open|fixing|fix_submitted --escalate--> same state, next level (reviewers, by hand)

Each transition asks the policy *who* (403) and the table *what* (409); each change writes a
TicketEvent (who, when, from/to state and level, note, photos). Tickets and events are never
deleted: there is no service or route for it and a session guard refuses it (art. 30, guards.py).
Levels and deadlines: escalation.py.
"""
from __future__ import annotations

import functools
import uuid as uuidlib
from dataclasses import dataclass

from sqlalchemy import String, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.checklists.models import Severity
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.notifications import services as notices
from app.org.models import Department, Lab
from app.photos import services as photo_services
from app.photos.models import Photo
from app.policy import Action, may
from app.timeutil import utcnow

from .escalation import LEVEL_RANK, NEXT_LEVEL, deadline_for, notify_level, raise_level, ticket_link, title_facts
from .events import EVENT_INSERT, record_event
from .labels import _, action_label, state_label, value_of
from .models import NewTicket, RectificationTicket, TicketEvent, TicketLevel, TicketState
from .routing import department_code_for, department_code_for_item
from .signatures import add_signature, signature_values

S = TicketState


@dataclass(frozen=True)
class Transition:
    from_states: frozenset
    to_state: TicketState | None  # None: the state does not change
    action: Action  # who may (app/policy.py)


TRANSITIONS: dict[str, Transition] = {
    "start_fix": Transition(frozenset({S.open}), S.fixing, Action.FIX_TICKET),
    "submit_fix": Transition(frozenset({S.fixing}), S.fix_submitted, Action.FIX_TICKET),
    "verify": Transition(frozenset({S.fix_submitted}), S.closed, Action.REVIEW_TICKET),
    "reject": Transition(frozenset({S.fix_submitted}), S.fixing, Action.REVIEW_TICKET),
    "declare_cannot_fix": Transition(frozenset({S.open, S.fixing}), S.fixing, Action.FIX_TICKET),
    "escalate": Transition(frozenset({S.open, S.fixing, S.fix_submitted}), None, Action.ESCALATE_TICKET),
}
ACTIONS = tuple(TRANSITIONS)


@functools.cache
def _ticket_insert():
    """INSERT INTO rectification_tickets (...) VALUES (..., (SELECT id FROM departments WHERE code =
    :department_code)) RETURNING id, department_id. Built once: the department's id comes from a
    scalar subquery, not a round trip of its own (art. 9 routing)."""
    table = RectificationTicket.__table__
    department = (
        select(Department.id).where(Department.code == bindparam("department_code", type_=String)).scalar_subquery()
    )
    return insert(table).values(department_id=department).returning(table.c.id, table.c.department_id)


def _insert_ticket(*, lab_id: int, article: str, title: str, title_en: str | None, description: str, severity: Severity,
                   department_code: str | None, actor_id: int | None, config: dict,
                   inspection_id: int | None = None, answer_id: int | None = None, item_id: int | None = None,
                   lab=None) -> int:
    """Insert a new ticket and its history with Core (no ORM flush), notify, return its id. Does not commit.

    The row, its "created" event (art. 30) and the notices are what the ORM path wrote. A major
    hazard is reported to the college at once (art. 29): the row is stored at college level with
    the college's deadline, as the ORM's insert-then-update left it (version 2), and both the
    creation and that escalation are recorded as events. ``lab``: the lab as the caller read it
    (``name`` and ``college_id``: a Lab, or the submit's row), or None to read it here.
    """
    now = utcnow()
    major = severity == Severity.major
    level = TicketLevel.college if major else TicketLevel.lab
    deadline = deadline_for(severity, level, config, now)
    ticket_id, department_id = db.session.execute(_ticket_insert(), {
        "lab_id": lab_id, "inspection_id": inspection_id, "answer_id": answer_id, "item_id": item_id,
        "article": article, "title": title, "title_en": title_en or None, "description": description,
        "severity": severity,
        "department_code": department_code or None, "state": TicketState.open, "level": level,
        "deadline": deadline, "cannot_fix": False, "interim_measures": "",
        "created_at": now, "updated_at": now, "escalated_at": now if major else None, "version": 2 if major else 1,
    }).one()
    created = {"ticket_id": ticket_id, "actor_id": actor_id, "kind": "created", "from_state": None,
               "to_state": S.open.value, "from_level": None, "to_level": TicketLevel.lab.value,
               "to_deadline": deadline_for(severity, TicketLevel.lab, config, now) if major else deadline,
               "note": description, "note_key": None, "note_params": None, "created_at": now}
    events = [created]
    if major:
        events.append({**created, "actor_id": None, "kind": "escalate", "from_state": S.open.value,
                       "from_level": TicketLevel.lab.value, "to_level": TicketLevel.college.value,
                       "to_deadline": deadline, "note": "", "note_key": "major_at_once", "note_params": {}})
    db.session.connection().execute(EVENT_INSERT, events)
    ticket = NewTicket(id=ticket_id, lab_id=lab_id, article=article, title=title, title_en=title_en or None,
                       description=description, severity=severity, level=level, department_id=department_id)
    if lab is None:
        lab = db.session.get(Lab, lab_id)
    notices.notify_lab_officers(
        lab_id, kind=notices.NEW_TICKET, facts=title_facts(ticket, lab),
        body=description, link=ticket_link(ticket), ticket_id=ticket_id,
        config=config, dedupe_key=f"ticket:{ticket_id}:created",
    )
    if major:
        notify_level(ticket, config, lab)
    return ticket_id


def open_ticket_for_failed_answer(*, inspection, answer, item, actor_id: int | None, config: dict,
                                  answer_is_new: bool = False, lab=None) -> int:
    """Every failed item becomes a ticket for the lab's safety officers (art. 29); returns its id.

    Idempotent: one failed answer has exactly one ticket (unique answer_id). ``answer_is_new``:
    the answer was inserted in this transaction, so it has no ticket yet and the lookup is
    skipped (the unique answer_id still guards it). ``lab``: the inspection's lab if the caller read
    it (``name``, ``college_id``), so it is not read again. Does not commit: the caller commits the
    inspection and its tickets together. The ticket is routed to the functional department of
    its article (art. 9); a major hazard goes to the college at once (art. 29). The lab's
    officers (and the college / department for a major one) are notified.
    """
    if not answer_is_new:
        existing = db.session.scalar(
            select(RectificationTicket.id).where(RectificationTicket.answer_id == answer.id)
        )
        if existing is not None:
            return existing
    return _insert_ticket(
        lab_id=inspection.lab_id, inspection_id=inspection.id, answer_id=answer.id, item_id=item.id,
        article=item.article, title=item.text, title_en=item.text_en, description=answer.note or "",
        severity=Severity(value_of(item.severity)),
        department_code=department_code_for_item(item), actor_id=actor_id, config=config, lab=lab,
    )


def create_ticket(*, lab: Lab, article: str, title: str, severity, config: dict, actor_id: int | None = None,
                  description: str = "", inspection_id: int | None = None,
                  title_en: str | None = None) -> RectificationTicket:
    """A ticket not tied to a checklist answer (seeding, tests, a hazard reported by hand). Does not commit.

    Returns the ORM ticket (its callers change and commit it): one SELECT more than the id.
    """
    ticket_id = _insert_ticket(
        lab_id=lab.id, inspection_id=inspection_id, article=article, title=title, title_en=title_en,
        description=description,
        severity=Severity(value_of(severity)), department_code=department_code_for(article, title), actor_id=actor_id,
        config=config,
    )
    return db.session.get(RectificationTicket, ticket_id)
# ---- the transitions -----------------------------------------------------------------------

MAX_ID = 2**31 - 1  # an INTEGER column on PostgreSQL; a larger id cannot exist


def get_ticket(ticket_id: int) -> RectificationTicket:
    ticket = db.session.get(RectificationTicket, ticket_id) if 0 < ticket_id <= MAX_ID else None
    if ticket is None:
        raise NotFound(_("No such ticket."))
    return ticket


def get_tickets(ticket_ids) -> dict[int, RectificationTicket]:
    """Tickets by id, in one query (a document listing an inspection's hazards)."""
    ids = {i for i in ticket_ids if i}
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(RectificationTicket).where(RectificationTicket.id.in_(ids)))}


def _why_not(user, ticket: RectificationTicket, name: str) -> tuple[int, str] | None:
    """(status, message) when ``user`` may not do ``name`` now; None when they may."""
    t = TRANSITIONS.get(name)
    if t is None:
        return 400, _("Unknown action.")
    if not may(user, t.action, ticket):
        if name in ("start_fix", "submit_fix", "declare_cannot_fix"):
            return 403, _("Only the lab's safety officers rectify its hazards.")
        return 403, _("You may not review or escalate this ticket.")
    if name == "verify" and ticket.fixed_by_id is not None and ticket.fixed_by_id == user.id:
        return 403, _("You submitted this fix, so you cannot verify it: someone else must check it.")
    if ticket.state not in t.from_states:
        return 409, _("This ticket is %(state)s; \"%(action)s\" is not possible now.",
                      state=state_label(ticket.state), action=action_label(name))
    if name == "declare_cannot_fix" and ticket.cannot_fix:
        return 409, _("The lab has already declared that it cannot fix this hazard for now.")
    if name == "escalate" and ticket.level == TicketLevel.school:
        return 409, _("This ticket is already at school level.")
    return None


def allowed_actions(user, ticket: RectificationTicket) -> list[str]:
    return [name for name in ACTIONS if _why_not(user, ticket, name) is None]


def perform_action(user, ticket_id: int, action: str, *, config: dict, note: str = "", photos=(),
                   interim_measures: str = "", version: int | None = None,
                   client_uuid: str | None = None, signature: dict | None = None) -> RectificationTicket:
    """Apply one transition for ``user``, or refuse it (403 who, 409 state/version, 400 input).

    Commits. ``version`` is the version the client saw: when the ticket changed since, 409.
    Two requests racing past that check still make exactly one transition: the ORM's version
    column turns the loser's UPDATE into StaleDataError, answered as 409.

    ``client_uuid``: the UUID the phone made once for this action. Sent again (a retry whose answer
    was lost), the action is not repeated: the ticket is returned as it is now, whatever its version.
    Used for another ticket, action or user: 409. Two copies racing each other: the unique column
    lets one event in; the other finds it and answers as a replay.

    ``signature``: the reply slip's signature (SignatureSchema-loaded), only with submit_fix and verify
    (signatures.py); stored with the event, so a replay stores nothing twice.
    """
    client_uuid = _normalise_client_uuid(client_uuid)
    if client_uuid is not None:
        replayed = _replay(user, ticket_id, action, client_uuid)
        if replayed is not None:
            return replayed
    try:
        return _perform(user, ticket_id, action, config=config, note=note, photos=photos,
                        interim_measures=interim_measures, version=version, client_uuid=client_uuid,
                        signature=signature)
    except (StaleDataError, IntegrityError, Conflict) as err:
        # The loser of a race: its UPDATE ... WHERE version = <seen> matched no row, its event's
        # client_uuid is already taken, or it read the ticket just after the winner moved it. When
        # the winner was this same action sent twice at once, the loser answers as its replay.
        db.session.rollback()
        replayed = _replay(user, ticket_id, action, client_uuid) if client_uuid is not None else None
        if replayed is not None:
            return replayed
        if not isinstance(err, StaleDataError):
            raise
        raise Conflict(_("Someone else changed this ticket at the same moment; reload it and try again.")) from None


def _normalise_client_uuid(value) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return str(uuidlib.UUID(str(value).strip()))
    except ValueError:
        raise InvalidInput(_("client_uuid must be a UUID."), {"fields": {"client_uuid": ["invalid"]}}) from None


def _replay(user, ticket_id: int, action: str, client_uuid: str) -> RectificationTicket | None:
    """The ticket as it is now when this action was already recorded under ``client_uuid`` (a replay);
    None when the UUID is new; 409 when it names another ticket, action or user's action."""
    done = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.actor_id).where(
            TicketEvent.client_uuid == client_uuid)
    ).first()
    if done is None:
        return None
    if tuple(done) != (ticket_id, action, user.id):
        raise Conflict(
            _("This action's client_uuid was already used for a different action; make a new UUID for each action."),
            {"client_uuid": client_uuid},
        )
    ticket = get_ticket(ticket_id)
    if not may(user, Action.VIEW_TICKET, ticket):
        raise Forbidden(_("You may not see this ticket."))
    return ticket


def _perform(user, ticket_id, action, *, config, note, photos, interim_measures, version, client_uuid,
             signature=None):
    ticket = get_ticket(ticket_id)
    if not may(user, Action.VIEW_TICKET, ticket):
        raise Forbidden(_("You may not see this ticket."))
    refusal = _why_not(user, ticket, action)
    if refusal is not None:
        status, message = refusal
        if status == 400:
            raise InvalidInput(message, {"action": list(ACTIONS)})
        if status == 403:
            raise Forbidden(message)
        # The state moved: tell the client where it stands now.
        raise Conflict(message, {"state": ticket.state.value, "version": ticket.version})
    if version is not None and version != ticket.version:
        raise Conflict(
            _("Someone else changed this ticket while you were looking at it; reload it and try again."),
            {"state": ticket.state.value, "version": ticket.version},
        )
    note = (note or "").strip()
    interim_measures = (interim_measures or "").strip()
    photo_uuids = _photo_uuids(photos, user)
    signed = signature_values(action, signature)
    now = utcnow()
    from_state, from_level = ticket.state, ticket.level
    t = TRANSITIONS[action]

    if action == "submit_fix":
        if not note:
            raise InvalidInput(_("Describe what was done to fix the hazard."), {"fields": {"note": ["required"]}})
        if not photo_uuids:
            raise InvalidInput(
                _("Attach at least one photo taken after the fix."), {"fields": {"photos": ["required"]}}
            )
        ticket.fixed_by_id = user.id
    elif action == "verify":
        if not note:
            raise InvalidInput(_("Say how you checked the fix (the proof)."), {"fields": {"note": ["required"]}})
        ticket.closed_at = now
    elif action == "reject":
        if not note:
            raise InvalidInput(_("Give the reason the fix is rejected."), {"fields": {"note": ["required"]}})
    elif action == "declare_cannot_fix":
        if not interim_measures:
            raise InvalidInput(_("Describe the interim precautions taken until the hazard can be fixed (art. 29)."),
                               {"fields": {"interim_measures": ["required"]}})
        ticket.cannot_fix = True
        ticket.interim_measures = interim_measures
    elif action == "escalate":
        if not note:
            raise InvalidInput(_("Give the reason for escalating."), {"fields": {"note": ["required"]}})

    if t.to_state is not None:
        ticket.state = t.to_state
    ticket.updated_at = now
    if action == "escalate":
        raise_level(ticket, NEXT_LEVEL[ticket.level], config, now, actor_id=user.id, note=note,
                    client_uuid=client_uuid)
    elif action == "declare_cannot_fix":
        record_event(ticket, action, user.id, from_state=from_state, from_level=from_level, note=note,
                note_key="interim_measures", note_params={"measures": interim_measures}, photo_uuids=photo_uuids,
                when=now, client_uuid=client_uuid)
    else:
        event = record_event(ticket, action, user.id, from_state=from_state, from_level=from_level, note=note,
                             photo_uuids=photo_uuids, when=now, client_uuid=client_uuid)
        add_signature(event, signed)
    if action == "declare_cannot_fix":
        if LEVEL_RANK[ticket.level] < LEVEL_RANK[TicketLevel.college]:
            # Art. 29: what the lab cannot fix is reported to the college at once.
            raise_level(ticket, TicketLevel.college, config, now, actor_id=user.id, note_key="cannot_fix_at_once")
        else:
            notify_level(ticket, config)
    _notify_transition(ticket, action, user, config, note)
    db.session.commit()
    return ticket


def _notify_transition(ticket: RectificationTicket, action: str, user, config: dict, note: str) -> None:
    lab = db.session.get(Lab, ticket.lab_id)
    common = dict(facts=title_facts(ticket, lab), body=note, link=ticket_link(ticket), ticket_id=ticket.id,
                  lab_id=ticket.lab_id, config=config, exclude_user_id=user.id)
    if action == "submit_fix":
        reviewers = notices.college_leaders(lab.college_id)
        if ticket.level == TicketLevel.school or ticket.severity == Severity.major or ticket.cannot_fix:
            reviewers += notices.department_officers(ticket.department_id)
        notices.notify(reviewers, kind=notices.FIX_SUBMITTED, **common)
    elif action == "reject":
        notices.notify(notices.lab_officers(ticket.lab_id), kind=notices.FIX_REJECTED, **common)
    elif action == "verify":
        notices.notify(notices.lab_officers(ticket.lab_id), kind=notices.TICKET_CLOSED, **common)
    elif action == "declare_cannot_fix":
        notices.notify(notices.college_oversight(lab.college_id), kind=notices.CANNOT_FIX,
                       body=ticket.interim_measures, **{k: v for k, v in common.items() if k != "body"})


def _photo_uuids(uuids, user) -> list[str]:
    """The photo UUIDs an event refers to, in order, each once. A photo may arrive after the event
    (report first, evidence after: it is found by its UUID then, and only this user may upload it,
    photos.check_reference_owner). One already stored must have been uploaded by this same user,
    so nobody can attach, and so reveal to this lab's readers, a photo taken elsewhere; nor may a
    UUID be one another user's record already waits for."""
    wanted: list[str] = []
    bad: list[str] = []
    for u in uuids or []:
        try:
            wanted.append(photo_services.normalise_uuid(str(u).strip()))
        except DomainError:
            bad.append(str(u))
    if bad:
        raise InvalidInput(_("Each photo must be named by a UUID."), {"fields": {"photos": ["invalid"]}, "photos": bad})
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return []
    owners = dict(db.session.execute(select(Photo.uuid, Photo.uploaded_by_id).where(Photo.uuid.in_(wanted))).all())
    foreign = [u for u in wanted if u in owners and owners[u] != user.id]
    # Not arrived yet: the photos domain's own rule for a UUID another user's record waits for.
    foreign += photo_services.waiting_for_others([u for u in wanted if u not in owners], user)
    if foreign:
        raise InvalidInput(_("Attach only photos you took yourself."), {"foreign_photos": foreign})
    return wanted

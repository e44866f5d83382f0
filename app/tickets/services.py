"""Rectification tickets (整改单): the lifecycle, escalation and department routing (art. 29, 30).

State machine (``TRANSITIONS`` below is the single source of truth)::

    open --start_fix--> fixing --submit_fix--> fix_submitted --verify--> closed
                          ^                          |
                          +----------reject----------+
    open|fixing --declare_cannot_fix--> fixing   (interim measures; level at least college)
    open|fixing|fix_submitted --escalate--> same state, next level (reviewers, by hand)

Each transition asks the policy *who* (403) and the table *what* (409); each change writes a
TicketEvent (who, when, from/to state and level, note, photos). Tickets and events are never
deleted: there is no service or route for it and a session guard refuses it (art. 30).

Levels lab -> college -> school. A ticket rises when its deadline passes (nightly job), at once
when it is major (art. 29: a major hazard is reported to the college at once, so a major ticket
starts at college level, its creation and that escalation both recorded), and when the lab
declares it cannot fix it. Each level sets a new deadline from TICKET_DEADLINE_DAYS.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    and_,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.checklists.models import Severity
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.language import N_, pick, translated
from app.notifications import services as notices
from app.org.models import Department, Lab
from app.policy import Action, may, scope_of, ticket_clause
from app.timeutil import utcnow

from .models import RectificationTicket, TicketEvent, TicketEventPhoto, TicketLevel, TicketState
from .routing import department_code_for, department_code_for_item

S = TicketState


def _(message: str, **params) -> str:
    """gettext in a request (the reader's language); the plain English msgid elsewhere (CLI, jobs)."""
    if has_request_context():
        return gettext(message, **params)
    return message % params if params else message


NEXT_LEVEL = {TicketLevel.lab: TicketLevel.college, TicketLevel.college: TicketLevel.school}
LEVEL_RANK = {TicketLevel.lab: 0, TicketLevel.college: 1, TicketLevel.school: 2}
# States in which the lab still owes a fix: the deadline applies and the nightly job escalates.
# A submitted fix waits for the reviewers, not the lab, so it does not climb on its deadline.
ACTIVE_STATES = (S.open, S.fixing)


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


# ---- never delete (art. 30) ---------------------------------------------------------------

class TicketDeletionRefused(RuntimeError):
    """Raised when anything tries to delete a ticket or rewrite its history."""


_APPEND_ONLY = (RectificationTicket, TicketEvent, TicketEventPhoto)


@event.listens_for(Session, "before_flush")
def _refuse_deleting_tickets(session, flush_context, instances):
    for obj in session.deleted:
        if isinstance(obj, _APPEND_ONLY):
            raise TicketDeletionRefused(
                f"{type(obj).__name__} rows are never deleted (art. 30: no hiding or delaying a hazard report)."
            )
    for obj in session.dirty:
        if isinstance(obj, (TicketEvent, TicketEventPhoto)) and session.is_modified(obj):
            raise TicketDeletionRefused("Ticket history is append-only (art. 30).")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_delete(orm_execute_state):
    if orm_execute_state.is_delete:
        tables = {getattr(m, "__table__", None) for m in _APPEND_ONLY}
        target = getattr(orm_execute_state.statement, "table", None)
        if target is not None and target in tables:
            raise TicketDeletionRefused(f"DELETE on {target.name} is refused (art. 30).")


# A row trigger also refuses DELETE in the database itself, whatever the client (psql, sqlite3,
# another app), on PostgreSQL and SQLite alike (migrations 0003 and 0005 install the same ones).
# TRUNCATE (the PostgreSQL test harness between tests) fires no row trigger, on purpose.
def sqlite_refuse_delete_trigger(table: str) -> str:
    """SQLite's form of the guard (no trigger functions there: the body raises itself)."""
    return (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END"
    )


_PG_GUARD_FN = db.DDL(
    """
    CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'rows of %% are never deleted (art. 30)', TG_TABLE_NAME;
    END; $$ LANGUAGE plpgsql
    """
)
for _model in _APPEND_ONLY:
    _table = _model.__table__
    event.listen(_table, "after_create", _PG_GUARD_FN.execute_if(dialect="postgresql"))
    event.listen(
        _table,
        "after_create",
        db.DDL(
            f"CREATE TRIGGER {_table.name}_no_delete BEFORE DELETE ON {_table.name} "
            "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()"
        ).execute_if(dialect="postgresql"),
    )
    event.listen(
        _table,
        "after_create",
        db.DDL(sqlite_refuse_delete_trigger(_table.name)).execute_if(dialect="sqlite"),
    )


# ---- deadlines, routing, creation ----------------------------------------------------------

def _v(x):
    return getattr(x, "value", x)


def deadline_for(severity, level, config: dict, start=None):
    days = config["TICKET_DEADLINE_DAYS"][(_v(severity), _v(level))]
    return (start or utcnow()) + timedelta(days=days)


def _record(ticket: RectificationTicket, kind: str, actor_id: int | None, *, from_state=None, from_level=None,
            note: str = "", note_key: str | None = None, note_params: dict | None = None, photo_ids=(),
            when: datetime | None = None) -> TicketEvent:
    ev = TicketEvent(
        ticket=ticket, actor_id=actor_id, kind=kind,
        from_state=_v(from_state), to_state=_v(ticket.state),
        from_level=_v(from_level), to_level=_v(ticket.level), to_deadline=ticket.deadline,
        note=note or "", note_key=note_key, note_params=note_params if note_key else None,
        created_at=when or utcnow(),
    )
    db.session.add(ev)
    for pid in photo_ids:
        ev.photos.append(TicketEventPhoto(photo_id=pid))
    return ev


@dataclass(frozen=True)
class _NewTicket:
    """A ticket row just inserted, as plain data; duck-types RectificationTicket for the notices."""

    id: int
    lab_id: int
    article: str
    title: str
    title_en: str | None
    description: str
    severity: Severity
    level: TicketLevel
    department_id: int | None
    cannot_fix: bool = False


# What the system writes in a ticket's history, stored as a key and its facts (TicketEvent.note_key,
# note_params) and translated when read (event_note). Written in English, translated in
# app/tickets/translations.
EVENT_NOTES = {
    "major_at_once": N_("Major hazard: reported to the college at once (art. 29)."),
    "cannot_fix_at_once": N_("The lab cannot fix this hazard for now (art. 29)."),
    "deadline_passed": N_("Deadline passed: escalated by the nightly job (as of the end of %(day)s)."),
    "interim_measures": N_("Interim measures: %(measures)s"),
}


def event_note(note: str, note_key: str | None, note_params: dict | None, locale: str | None = None) -> str:
    """A history entry's note as the reader reads it: what the actor wrote, then what the system
    adds (``note_key``), in ``locale`` (default: the reader's)."""
    message = EVENT_NOTES.get(note_key or "")
    if message is None:
        return note or ""
    added = translated(message, locale, **(note_params or {}))
    return "\n".join(p for p in (note, added) if p)


def reader_title(ticket, locale: str | None = None) -> str:
    """The ticket's title in the reader's language: its checklist item's English text for English readers."""
    return pick(ticket.title, ticket.title_en, locale)


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


_EVENT_INSERT = insert(TicketEvent.__table__)


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
    db.session.connection().execute(_EVENT_INSERT, events)
    ticket = _NewTicket(id=ticket_id, lab_id=lab_id, article=article, title=title, title_en=title_en or None,
                        description=description, severity=severity, level=level, department_id=department_id)
    if lab is None:
        lab = db.session.get(Lab, lab_id)
    notices.notify_lab_officers(
        lab_id, kind=notices.NEW_TICKET, facts=_title_facts(ticket, lab),
        body=description, link=ticket_link(ticket), ticket_id=ticket_id,
        config=config, dedupe_key=f"ticket:{ticket_id}:created",
    )
    if major:
        _notify_level(ticket, config, lab)
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
        severity=Severity(_v(item.severity)),
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
        severity=Severity(_v(severity)), department_code=department_code_for(article, title), actor_id=actor_id,
        config=config,
    )
    return db.session.get(RectificationTicket, ticket_id)


def _title_facts(ticket: RectificationTicket, lab: Lab | None = None) -> notices.TitleFacts:
    """What the ticket's notices are titled with (each reader gets the title in their language)."""
    lab = lab or db.session.get(Lab, ticket.lab_id)
    return notices.TitleFacts(lab=lab.name if lab else "", article=ticket.article, title=ticket.title,
                              title_en=ticket.title_en, lab_en=getattr(lab, "name_en", None))


def ticket_link(ticket) -> str:
    return link_for(ticket.id)


def link_for(ticket_id: int) -> str:
    return f"/tickets/{ticket_id}"


def _raise_level(ticket: RectificationTicket, to_level: TicketLevel, config: dict, now: datetime, *,
                 actor_id: int | None, note: str = "", note_key: str | None = None,
                 kind: str = "escalate") -> TicketEvent:
    """Move the ticket up to ``to_level`` with a fresh deadline, record it, tell those concerned."""
    from_level, from_state = ticket.level, ticket.state
    ticket.level = to_level
    ticket.deadline = deadline_for(ticket.severity, to_level, config, now)
    ticket.escalated_at = now
    ticket.updated_at = now
    ev = _record(ticket, kind, actor_id, from_state=from_state, from_level=from_level, note=note,
                 note_key=note_key, note_params={}, when=now)
    _notify_level(ticket, config)
    return ev


def _notify_level(ticket: RectificationTicket, config: dict, lab=None) -> None:
    if lab is None:
        lab = db.session.get(Lab, ticket.lab_id)
    common = dict(
        facts=_title_facts(ticket, lab),
        link=ticket_link(ticket),
        ticket_id=ticket.id,
        lab_id=ticket.lab_id,
        config=config,
    )
    level = _v(ticket.level)
    if level in ("college", "school"):
        notices.notify(notices.college_oversight(lab.college_id), kind=notices.ESCALATED,
                       dedupe_key=f"ticket:{ticket.id}:level:{level}", **common)
    if level == "school" or ticket.severity == Severity.major or ticket.cannot_fix:
        # Art. 29: major and cannot-fix hazards are reported to the functional department too.
        notices.notify(notices.department_officers(ticket.department_id), kind=notices.ROUTED,
                       dedupe_key=f"ticket:{ticket.id}:dept:{level}", **common)
    if level == "school":
        notices.notify(notices.school_admins(), kind=notices.ESCALATED,
                       dedupe_key=f"ticket:{ticket.id}:level:school", **common)


# ---- the transitions -----------------------------------------------------------------------

MAX_ID = 2**31 - 1  # an INTEGER column on PostgreSQL; a larger id cannot exist


def get_ticket(ticket_id: int) -> RectificationTicket:
    ticket = db.session.get(RectificationTicket, ticket_id) if 0 < ticket_id <= MAX_ID else None
    if ticket is None:
        raise NotFound(_("No such ticket."))
    return ticket


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
                   interim_measures: str = "", version: int | None = None) -> RectificationTicket:
    """Apply one transition for ``user``, or refuse it (403 who, 409 state/version, 400 input).

    Commits. ``version`` is the version the client saw: when the ticket changed since, 409.
    Two requests racing past that check still make exactly one transition: the ORM's version
    column turns the loser's UPDATE into StaleDataError, answered as 409.
    """
    try:
        return _perform(user, ticket_id, action, config=config, note=note, photos=photos,
                        interim_measures=interim_measures, version=version)
    except StaleDataError:
        # The loser of a race: its UPDATE ... WHERE version = <seen> matched no row.
        db.session.rollback()
        raise Conflict(_("Someone else changed this ticket at the same moment; reload it and try again.")) from None


def _perform(user, ticket_id, action, *, config, note, photos, interim_measures, version):
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
    photo_ids = _photo_ids(photos, user)
    now = utcnow()
    from_state, from_level = ticket.state, ticket.level
    t = TRANSITIONS[action]

    if action == "submit_fix":
        if not note:
            raise InvalidInput(_("Describe what was done to fix the hazard."), {"fields": {"note": ["required"]}})
        if not photo_ids:
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
        _raise_level(ticket, NEXT_LEVEL[ticket.level], config, now, actor_id=user.id, note=note)
    elif action == "declare_cannot_fix":
        _record(ticket, action, user.id, from_state=from_state, from_level=from_level, note=note,
                note_key="interim_measures", note_params={"measures": interim_measures}, photo_ids=photo_ids,
                when=now)
    else:
        _record(ticket, action, user.id, from_state=from_state, from_level=from_level, note=note,
                photo_ids=photo_ids, when=now)
    if action == "declare_cannot_fix":
        if LEVEL_RANK[ticket.level] < LEVEL_RANK[TicketLevel.college]:
            # Art. 29: what the lab cannot fix is reported to the college at once.
            _raise_level(ticket, TicketLevel.college, config, now, actor_id=user.id, note_key="cannot_fix_at_once")
        else:
            _notify_level(ticket, config)
    _notify_transition(ticket, action, user, config, note)
    db.session.commit()
    return ticket


def _notify_transition(ticket: RectificationTicket, action: str, user, config: dict, note: str) -> None:
    lab = db.session.get(Lab, ticket.lab_id)
    common = dict(facts=_title_facts(ticket, lab), body=note, link=ticket_link(ticket), ticket_id=ticket.id,
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


def _photo_ids(uuids, user) -> list[int]:
    """Photo ids for the given UUIDs: each uploaded (PUT /api/photos/<uuid>) by this same user,
    so nobody can attach, and so reveal to this lab's readers, a photo taken elsewhere."""
    wanted = [str(u).strip().lower() for u in (uuids or []) if str(u).strip()]
    if not wanted:
        return []
    from app.photos.models import Photo

    found = {uuid: (pid, owner) for uuid, pid, owner in db.session.execute(
        select(Photo.uuid, Photo.id, Photo.uploaded_by_id).where(Photo.uuid.in_(wanted)))}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise InvalidInput(_("Upload these photos first (PUT /api/photos/<uuid>)."), {"missing_photos": missing})
    foreign = [u for u in wanted if found[u][1] != user.id]
    if foreign:
        raise InvalidInput(_("Attach only photos you uploaded yourself."), {"foreign_photos": foreign})
    return list(dict.fromkeys(found[u][0] for u in wanted))


# ---- labels (for pages and error messages) --------------------------------------------------

def state_label(state) -> str:
    return {
        "open": _("open"), "fixing": _("being fixed"), "fix_submitted": _("fix submitted"), "closed": _("closed"),
    }.get(_v(state), _v(state))


def level_label(level) -> str:
    return {"lab": _("lab"), "college": _("college"), "school": _("school")}.get(_v(level), _v(level))


def action_label(action: str) -> str:
    return {
        "start_fix": _("start fixing"), "submit_fix": _("submit fix"), "verify": _("verify and close"),
        "reject": _("reject the fix"), "declare_cannot_fix": _("declare cannot fix"), "escalate": _("escalate"),
    }.get(action, action)


EVENT_KINDS = ("created", *ACTIONS)


def event_label(kind: str) -> str:
    """A history entry's kind as the reader reads it: what happened, in their language."""
    return {
        "created": _("Ticket opened"), "start_fix": _("Fixing started"), "submit_fix": _("Fix submitted"),
        "verify": _("Fix verified, ticket closed"), "reject": _("Fix rejected"),
        "declare_cannot_fix": _("Declared that the lab cannot fix it for now"), "escalate": _("Escalated"),
    }.get(kind, kind)


# ---- listings ------------------------------------------------------------------------------

def overdue(state, deadline: datetime, now: datetime) -> bool:
    """Art. 29: a ticket not yet closed past its deadline (state as the enum or its stored value)."""
    return state != TicketState.closed and deadline < now


def is_overdue(ticket: RectificationTicket, now: datetime | None = None) -> bool:
    return overdue(ticket.state, ticket.deadline, now or utcnow())


# The list's order is (closed last, deadline, id). No single index serves "closed last", so the list is
# read in two parts, each walking an index (models.RectificationTicket.__table_args__): the open part
# (every state but closed) the partial index by (deadline, id), then the closed part the index by
# (state, deadline, id). The open predicate is literal SQL, the partial index's WHERE verbatim, so that
# SQLite and PostgreSQL (even with a generic plan) can prove the index applies; a bound parameter might not.
_tc = RectificationTicket.__table__.c
_OPEN = _tc.state != literal_column("'closed'")
_CLOSED = _tc.state == literal_column("'closed'")
_ORDER = (_tc.deadline, _tc.id)
_TICKETS_LABS = RectificationTicket.__table__.join(Lab.__table__, Lab.__table__.c.id == _tc.lab_id)


def ticket_filter(user):
    """A WHERE clause over RectificationTicket (joined to Lab) for the tickets a user may see."""
    return ticket_clause(user, lab_id=RectificationTicket.lab_id, college_id=Lab.college_id,
                         department_id=RectificationTicket.department_id)


def _lab_sized(user, filters: dict) -> bool:
    """Whether the listing is narrowed to a few labs (a lab_id filter, or a lab officer's own labs only)."""
    if filters.get("lab_id") is not None:
        return True
    s = scope_of(user)
    return not (s.admin or s.school_inspector or s.oversight_colleges or s.departments)


def _scope(user, dialect: str, lab_sized: bool):
    """policy.ticket_filter(user), with a planner hint on SQLite for a college or department scope.

    Without statistics SQLite guesses that ``labs.college_id IN (...)`` picks few rows, so it reads the
    college's labs, their tickets by lab_id, and sorts them all (the college's whole history). likely()
    (no change to the result) tells it most tickets pass, so it walks the ordered index and stops after
    a page. PostgreSQL plans from its statistics and has no such function.
    """
    clause = ticket_filter(user)
    if dialect == "sqlite" and not lab_sized:
        s = scope_of(user)
        if not (s.admin or s.school_inspector):
            return func.likely(clause, type_=Boolean)
    return clause


def _filtered(stmt, user, dialect: str, lab_sized: bool, *, state=None, level=None, overdue: bool = False,
              lab_id: int | None = None, college_id: int | None = None, department_id: int | None = None):
    """``stmt`` (over tickets joined to Lab) narrowed to the user's scope and the filters (no order).
    ``overdue`` compares with the bound parameter ``now``, so the statement can be reused."""
    stmt = stmt.where(_scope(user, dialect, lab_sized))
    if state:
        stmt = stmt.where(RectificationTicket.state == TicketState(_v(state)))
    if level:
        stmt = stmt.where(RectificationTicket.level == TicketLevel(_v(level)))
    if overdue:
        stmt = stmt.where(RectificationTicket.state != TicketState.closed, RectificationTicket.deadline < _NOW)
    if lab_id is not None:
        stmt = stmt.where(RectificationTicket.lab_id == lab_id)
    if college_id is not None:
        stmt = stmt.where(Lab.college_id == college_id)
    if department_id is not None:
        stmt = stmt.where(RectificationTicket.department_id == department_id)
    return stmt


# LIMIT and OFFSET rendered into the SQL at execution (literal_execute): a statement built once serves
# every page, and the database still plans with the actual numbers (a generic plan with an unknown
# LIMIT may prefer sorting the scope to walking the index).
_LIMIT = bindparam("limit", type_=Integer, literal_execute=True)
_OFFSET = bindparam("offset", type_=Integer, literal_execute=True)
_NOW = bindparam("now", type_=RectificationTicket.__table__.c.deadline.type)


@dataclass(frozen=True)
class _ListingPlan:
    """The statements for one listing shape (who, which filters): see ``_in_scope``."""

    lab_sized: bool
    want_open: bool
    want_closed: bool
    single: Any = None  # lab-sized: one sorted query
    open_page: Any = None
    closed_page: Any = None
    open_count: Any = None


LISTING_PLAN_CACHE_SIZE = 512


def _scope_key(user) -> tuple:
    # Everything policy.ticket_filter and _scope read of the user: equal keys, equal WHERE clauses.
    s = scope_of(user)
    if user is None or not getattr(user, "is_authenticated", False):
        return ("nobody",)
    return (s.admin, s.school_inspector, frozenset(s.departments), frozenset(s.oversight_colleges),
            frozenset(s.officer_labs))


def _listing_plan(name: str, stmt, user, filters: dict) -> _ListingPlan:
    """The listing's statements, built once per shape and kept per app (bounded, least recently used
    dropped). Building them and computing their cache keys was ~0.2 ms of every listing request;
    a statement object reused keeps its cache key."""
    from flask import current_app

    dialect = db.session.get_bind().dialect.name
    key = (name, dialect, _scope_key(user), tuple(sorted((k, _v(v)) for k, v in filters.items())))
    cache = current_app.extensions.setdefault("labsafe_ticket_listing_plans", OrderedDict())
    with _plan_lock:
        plan = cache.get(key)
        if plan is not None:
            cache.move_to_end(key)
            return plan
    lab_sized = _lab_sized(user, filters)
    base = _filtered(stmt, user, dialect, lab_sized, **filters)
    state = _v(filters.get("state"))
    want_open = state != TicketState.closed.value if state else True
    want_closed = not filters.get("overdue") and (not state or state == TicketState.closed.value)
    if lab_sized:
        plan = _ListingPlan(True, want_open, want_closed,
                            single=base.order_by(_CLOSED.asc(), *_ORDER).limit(_LIMIT).offset(_OFFSET))
    else:
        count = _filtered(select(func.count()).select_from(_TICKETS_LABS), user, dialect, lab_sized, **filters)
        plan = _ListingPlan(
            False, want_open, want_closed,
            open_page=base.where(_OPEN).order_by(*_ORDER).limit(_LIMIT).offset(_OFFSET),
            closed_page=base.where(_CLOSED).order_by(*_ORDER).limit(_LIMIT).offset(_OFFSET),
            open_count=count.where(_OPEN),
        )
    with _plan_lock:
        cache[key] = plan
        while len(cache) > LISTING_PLAN_CACHE_SIZE:
            cache.popitem(last=False)
    return plan


_plan_lock = threading.Lock()


def _in_scope(run, name: str, stmt, user, *, limit: int = 200, offset: int = 0, **filters) -> list:
    """Rows ``offset`` to ``offset + limit`` of ``stmt`` (over tickets joined to Lab) in the user's scope and
    the filters (see ``_filtered``), most urgent first: open tickets by (deadline, id), then closed ones.
    ``run(statement, params)`` executes a statement and returns its rows as a list; ``name`` names the
    base statement in the plan cache.

    The same rows as one ``ORDER BY state = 'closed', deadline, id LIMIT limit OFFSET offset``. A list of a
    few labs (a lab officer's, or a lab_id filter) is that one query: the database reads the labs' tickets
    by lab_id and sorts them, cheaper than walking the whole school's index for them. A wider list is read
    from two indexes without sorting the scope: the open part's page first; when it comes back short,
    the closed part fills the rest, from offset 0 if the open part ended inside this page (or there are
    no open tickets and offset is 0), else from ``offset - (open tickets in scope)``, which costs one
    COUNT over the open index. At most three queries, whatever the number of tickets.
    """
    plan = _listing_plan(name, stmt, user, filters)
    now = utcnow()
    if plan.lab_sized:
        return run(plan.single, {"limit": limit, "offset": offset, "now": now})
    rows: list = []
    closed_offset = offset
    if plan.want_open:
        rows = run(plan.open_page, {"limit": limit, "offset": offset, "now": now})
        if len(rows) >= limit or not plan.want_closed:
            return rows
        if rows or offset == 0:
            closed_offset = 0
        else:  # the page starts past the last open ticket: how far past?
            closed_offset = max(0, offset - db.session.connection().scalar(plan.open_count, {"now": now}))
    if not plan.want_closed:
        return rows
    return rows + run(plan.closed_page, {"limit": limit - len(rows), "offset": closed_offset, "now": now})


def tickets_in_scope(user, **filters) -> list[RectificationTicket]:
    """The tickets this user may see, filtered, most urgent first (filters: see ``_in_scope``); 1-3 queries."""
    return _in_scope(lambda s, params: list(db.session.scalars(s, params)), "entities", _ENTITIES, user, **filters)


_ENTITIES = select(RectificationTicket).join(Lab, Lab.id == RectificationTicket.lab_id)


# The columns a listing shows, in serialize.listing_body's order: read as plain rows (no ORM entity per
# ticket), the lab and department joined in; the enum columns as their stored strings (no enum objects).
# Table columns, not the mapped attributes: matching ORM-annotated columns to the result costs ~600
# Python calls per request.
_t, _lab, _dept = RectificationTicket.__table__.c, Lab.__table__.c, Department.__table__.c
_LISTING = (  # built once (statements are immutable); _in_scope adds the scope, filters and order
    select(
        _t.id, _t.lab_id, _lab.name, _lab.college_id, _t.inspection_id, _t.article, _t.title, _t.description,
        type_coerce(_t.severity, String), type_coerce(_t.state, String), type_coerce(_t.level, String), _t.deadline,
        _t.cannot_fix, _t.interim_measures, _t.fixed_by_id, _t.created_at, _t.updated_at, _t.closed_at,
        _t.escalated_at, _t.version, _dept.id, _dept.code, _dept.name, _t.title_en, _lab.name_en,
    )
    .select_from(RectificationTicket.__table__.join(Lab.__table__, _lab.id == _t.lab_id)
                 .outerjoin(Department.__table__, _dept.id == _t.department_id))
)


def ticket_rows_in_scope(user, **filters) -> list:
    """Like ``tickets_in_scope`` (same scope, filters, order, limit), but the listed columns with the lab and
    department joined in: rows, not entities, so a page of 200 stays cheap (1-3 queries, see ``_in_scope``)."""
    # On the session's connection: plain Core rows, without the ORM's per-row loading layer (~1 ms for 200).
    conn = db.session.connection()
    return _in_scope(lambda s, params: conn.execute(s, params).all(), "rows", _LISTING, user, **filters)


def counts_in_scope(user) -> dict:
    """Open tickets by state and level, and how many are overdue (for the page's filter chips); one query."""
    late = RectificationTicket.deadline < utcnow()
    rows = db.session.execute(
        select(RectificationTicket.state, RectificationTicket.level, late, func.count())
        .join(Lab, Lab.id == RectificationTicket.lab_id)
        .where(ticket_filter(user), RectificationTicket.state != TicketState.closed)
        .group_by(RectificationTicket.state, RectificationTicket.level, late)
    )
    by = {"state": {}, "level": {}, "overdue": 0}
    for state, level, is_late, n in rows:
        by["state"][_v(state)] = by["state"].get(_v(state), 0) + n
        by["level"][_v(level)] = by["level"].get(_v(level), 0) + n
        if is_late:
            by["overdue"] += n
    return by


def open_tickets_for_lab(lab_id: int) -> list[RectificationTicket]:
    """Tickets of a lab not yet verified closed, most urgent deadline first."""
    return list(
        db.session.scalars(
            select(RectificationTicket)
            .where(RectificationTicket.lab_id == lab_id, RectificationTicket.state != TicketState.closed)
            .order_by(RectificationTicket.deadline)
        )
    )


def events_with_photos(ticket: RectificationTicket) -> list[dict]:
    """The timeline: every event with its actor's name and photo UUIDs, in order (two queries)."""
    from app.auth.models import User
    from app.photos.models import Photo

    rows = db.session.execute(
        select(TicketEvent, User.name).outerjoin(User, User.id == TicketEvent.actor_id)
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).all()
    photos: dict[int, list[str]] = {}
    for event_id, uuid in db.session.execute(
        select(TicketEventPhoto.event_id, Photo.uuid).join(Photo, Photo.id == TicketEventPhoto.photo_id)
        .join(TicketEvent, TicketEvent.id == TicketEventPhoto.event_id)
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEventPhoto.id)
    ):
        photos.setdefault(event_id, []).append(uuid)
    return [
        {"event": ev, "actor_name": name, "photos": photos.get(ev.id, [])}
        for ev, name in rows
    ]


def evidence_photo_uuids(ticket: RectificationTicket) -> list[str]:
    """The photos the inspector attached to the failed answer (before-photos)."""
    if ticket.answer_id is None:
        return []
    from app.inspections.models import AnswerPhoto

    return list(db.session.scalars(
        select(AnswerPhoto.photo_uuid).where(AnswerPhoto.answer_id == ticket.answer_id).order_by(AnswerPhoto.position)
    ))


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


def overdue_clause(as_of: datetime):
    return and_(RectificationTicket.state.in_(ACTIVE_STATES), RectificationTicket.deadline <= as_of)


def labs_of_event_photo(photo):
    """The labs whose tickets have an event showing this photo (a SELECT of lab ids; registered with
    photos by create_app)."""
    return (
        select(RectificationTicket.lab_id)
        .join(TicketEvent, TicketEvent.ticket_id == RectificationTicket.id)
        .join(TicketEventPhoto, TicketEventPhoto.event_id == TicketEvent.id)
        .where(TicketEventPhoto.photo_id == photo.id)
    )


__all__ = [
    "TRANSITIONS", "ACTIONS", "perform_action", "allowed_actions", "open_ticket_for_failed_answer", "create_ticket",
    "tickets_in_scope", "get_ticket", "deadline_for", "overdue_clause", "deadline_as_of", "level_as_of",
]


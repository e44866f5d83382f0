"""Levels and deadlines: lab -> college -> school (art. 29).

A ticket rises when its deadline passes (the nightly job calls ``escalate_overdue``, the set-based
form of ``raise_level``), at once when it is major (art. 29: a major
hazard is reported to the college at once, so a major ticket starts at college level, its creation
and that escalation both recorded), and when the lab declares it cannot fix it. Each level sets a
new deadline from TICKET_DEADLINE_DAYS; each rise notifies those concerned.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, case, cast, literal, or_, select, true, update

from app.checklists.models import Severity
from app.extensions import db
from app.notifications import services as notices
from app.org.models import Lab
from app.timeutil import utcnow

from .events import EVENT_INSERT, record_event
from .labels import value_of
from .models import RectificationTicket, TicketEvent, TicketLevel, TicketState

S = TicketState

NEXT_LEVEL = {TicketLevel.lab: TicketLevel.college, TicketLevel.college: TicketLevel.school}
LEVEL_RANK = {TicketLevel.lab: 0, TicketLevel.college: 1, TicketLevel.school: 2}
# States in which the lab still owes a fix: the deadline applies and the nightly job escalates.
# A submitted fix waits for the reviewers, not the lab, so it does not climb on its deadline.
ACTIVE_STATES = (S.open, S.fixing)


def deadline_for(severity, level, config: dict, start=None):
    days = config["TICKET_DEADLINE_DAYS"][(value_of(severity), value_of(level))]
    return (start or utcnow()) + timedelta(days=days)


def title_facts(ticket: RectificationTicket, lab: Lab | None = None) -> notices.TitleFacts:
    """What the ticket's notices are titled with (each reader gets the title in their language)."""
    lab = lab or db.session.get(Lab, ticket.lab_id)
    return notices.TitleFacts(lab=lab.name if lab else "", article=ticket.article, title=ticket.title,
                              title_en=ticket.title_en, lab_en=getattr(lab, "name_en", None))


_T = RectificationTicket.__table__.c
# Handed to notifications at start-up (create_app): the inbox reads these with each ticket's notice.
TICKET_FACTS = notices.TicketFactColumns(id=_T.id, article=_T.article, title=_T.title, title_en=_T.title_en)


def ticket_link(ticket) -> str:
    return link_for(ticket.id)


def link_for(ticket_id):
    """A ticket's page: a str for an id, the same text as SQL for a column."""
    return notices.text_of("/tickets/", ticket_id)


def _either(a, b):
    """``a or b`` for one ticket's facts, OR in SQL for columns."""
    return a or b if isinstance(a, bool) and isinstance(b, bool) else or_(a, b)


def level_notices(ticket_id, level, *, college_id, department_id, routed):
    """Who hears of a ticket reaching ``level`` (college or school), art. 29: (kind, recipients rule,
    its scope, whether it applies, dedupe key) per notice. Plain values for one ticket
    (``notify_level``), columns for the nightly job's set (``escalate_overdue``): one rule for both.

    The college's leaders and head at either level; the routed department (art. 9) on reaching the
    school, and at any level when ``routed`` (a major hazard or one the lab cannot fix, art. 29);
    the school's administrators at school level."""
    at_school = level == TicketLevel.school.value
    return [
        (notices.ESCALATED, notices.college_oversight_of, college_id, True,
         notices.text_of("ticket:", ticket_id, ":level:", level)),
        (notices.ROUTED, notices.department_officers_of, department_id, _either(at_school, routed),
         notices.text_of("ticket:", ticket_id, ":dept:", level)),
        (notices.ESCALATED, notices.school_admins_of, None, at_school,
         notices.text_of("ticket:", ticket_id, ":level:school")),
    ]


def overdue_key(ticket_id, level):
    return notices.text_of("overdue:", ticket_id, ":", level)


def raise_level(ticket: RectificationTicket, to_level: TicketLevel, config: dict, now: datetime, *,
                 actor_id: int | None, note: str = "", note_key: str | None = None,
                 kind: str = "escalate", client_uuid: str | None = None) -> TicketEvent:
    """Move the ticket up to ``to_level`` with a fresh deadline, record it, tell those concerned."""
    from_level, from_state = ticket.level, ticket.state
    ticket.level = to_level
    ticket.deadline = deadline_for(ticket.severity, to_level, config, now)
    ticket.escalated_at = now
    ticket.updated_at = now
    ev = record_event(ticket, kind, actor_id, from_state=from_state, from_level=from_level, note=note,
                 note_key=note_key, note_params={}, when=now, client_uuid=client_uuid)
    notify_level(ticket, config)
    return ev


def notify_level(ticket: RectificationTicket, config: dict, lab=None) -> None:
    if lab is None:
        lab = db.session.get(Lab, ticket.lab_id)
    common = dict(
        facts=title_facts(ticket, lab),
        link=ticket_link(ticket),
        ticket_id=ticket.id,
        lab_id=ticket.lab_id,
        config=config,
    )
    level = value_of(ticket.level)
    if level not in (TicketLevel.college.value, TicketLevel.school.value):
        return
    routed = ticket.severity == Severity.major or bool(ticket.cannot_fix)
    for kind, rule, scope, applies, key in level_notices(ticket.id, level, college_id=lab.college_id,
                                                         department_id=ticket.department_id, routed=routed):
        if applies:
            notices.notify(notices.recipients_of(rule, scope), kind=kind, dedupe_key=key, **common)


def overdue(state, deadline: datetime, now: datetime) -> bool:
    """Art. 29: a ticket not yet closed past its deadline (state as the enum or its stored value)."""
    return state != TicketState.closed and deadline < now


def is_overdue(ticket: RectificationTicket, now: datetime | None = None) -> bool:
    return overdue(ticket.state, ticket.deadline, now or utcnow())


def overdue_clause(as_of: datetime):
    """The tickets the lab still owes past their deadline at ``as_of``: the ones that climb."""
    return and_(RectificationTicket.state.in_(ACTIVE_STATES), RectificationTicket.deadline <= as_of)


# ---- the nightly job's escalation, set-based -------------------------------------------------

def escalate_overdue(day: date, end: datetime, now: datetime, config: dict) -> dict:
    """Every ticket still owed by its lab whose deadline passed by ``end`` (the end of ``day``) climbs
    one level, as ``raise_level`` moves one ticket: a new deadline per severity and level counted from
    ``end`` (so a catch-up after a gap equals one run per night), an event with actor None, and the
    notices of ``level_notices``; the lab's officers also hear it is overdue (at school level too,
    where it cannot climb). A fixed number of statements whatever the number of tickets.
    Returns {"escalated": tickets, "notifications": notices written}."""
    T = RectificationTicket
    overdue_now = overdue_clause(end)
    climbing = T.level != TicketLevel.school
    level = cast(T.level, String)
    next_level = case(*[(T.level == frm, literal(to.value)) for frm, to in NEXT_LEVEL.items()])
    deadline = case(
        *[(and_(T.severity == sev, T.level == frm), literal(deadline_for(sev, to, config, end), type_=db.DateTime))
          for sev in Severity for frm, to in NEXT_LEVEL.items()],
        else_=T.deadline,
    )

    def notify(kind, rule, scope, where, key):
        rows = select().select_from(T).join(Lab, Lab.id == T.lab_id).where(overdue_now, where)
        return notices.notify_selected(kind, rows, (rule, scope), dedupe_key=key,
                                       link=link_for(T.id), ticket_id=T.id, lab_id=T.lab_id, lab_name=Lab.name,
                                       article=T.article, title=T.title, now=now)

    sent = notify(notices.OVERDUE, notices.lab_officers_of, T.lab_id, true(), overdue_key(T.id, level))
    routed = or_(T.severity == Severity.major, T.cannot_fix.is_(True))
    for kind, rule, scope, applies, key in level_notices(T.id, next_level, college_id=Lab.college_id,
                                                         department_id=T.department_id, routed=routed):
        sent += notify(kind, rule, scope, and_(climbing, applies), key)

    # The events first (they read the level before the UPDATE); each records the new deadline
    # (to_deadline), so the ticket's past states can be read back. The note is a key and its facts,
    # rendered in each reader's language (labels.event_note).
    events = select(
        T.id, literal(None, type_=db.Integer), literal("escalate"), cast(T.state, String), cast(T.state, String),
        level, next_level, deadline, literal(""), literal("deadline_passed"),
        literal({"day": day.isoformat()}, type_=TicketEvent.__table__.c.note_params.type),
        literal(now, type_=db.DateTime),
    ).where(overdue_now, climbing)
    db.session.execute(EVENT_INSERT.from_select(
        ["ticket_id", "actor_id", "kind", "from_state", "to_state", "from_level", "to_level", "to_deadline", "note",
         "note_key", "note_params", "created_at"],
        events,
    ))
    escalated = db.session.execute(
        update(T.__table__).where(overdue_now, climbing)
        .values(level=next_level, deadline=deadline, escalated_at=end, updated_at=now, version=T.version + 1)
        .execution_options(preserve_rowcount=True)
    ).rowcount or 0
    return {"escalated": escalated, "notifications": sent}

"""Ticket listings: who sees which tickets (ticket_filter), the paged listing engine and its plan
cache, counts for the filter chips, a lab's open tickets."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Boolean, Integer, String, bindparam, func, literal_column, or_, select, type_coerce

from app.checklists.models import Severity
from app.extensions import db
from app.org.models import Department, Lab
from app.policy import scope_of, ticket_clause
from app.timeutil import utcnow

from .labels import value_of
from .models import RectificationTicket, TicketLevel, TicketState

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


def visible_ticket_ids(user, ticket_ids) -> set[int]:
    """Which of these tickets the user may see (the policy's ticket rule in SQL): one query for a list
    that names many tickets, instead of asking the policy ticket by ticket."""
    ids = set(ticket_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(RectificationTicket.id).join(Lab, Lab.id == RectificationTicket.lab_id)
                                  .where(RectificationTicket.id.in_(ids), ticket_filter(user))))


def _lab_sized(user, filters: dict) -> bool:
    """Whether the listing is narrowed to a few labs (a lab_id filter, or a lab officer's own labs only)."""
    if filters.get("lab_id") is not None:
        return True
    s = scope_of(user)
    return not (s.admin or s.school_inspector or s.oversight_colleges or s.departments)


def _scope(user, dialect: str, lab_sized: bool):
    """ticket_filter(user), with a planner hint on SQLite for a college or department scope.

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
        stmt = stmt.where(RectificationTicket.state == TicketState(value_of(state)))
    if level:
        stmt = stmt.where(RectificationTicket.level == TicketLevel(value_of(level)))
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
    # Everything ticket_filter (the policy's ticket_clause) and _scope read of the user: equal keys, equal
    # WHERE clauses.
    s = scope_of(user)
    if user is None or not getattr(user, "is_authenticated", False):
        return ("nobody",)
    return (s.admin, s.school_inspector, frozenset(s.departments), frozenset(s.oversight_colleges),
            frozenset(s.officer_labs))


def _listing_plan(name: str, stmt, user, filters: dict) -> _ListingPlan:
    """The listing's statements, built once per shape and kept per app (bounded, least recently used
    dropped). Building them and computing their cache keys was ~0.2 ms of every listing request;
    a statement object reused keeps its cache key."""
    dialect = db.session.get_bind().dialect.name
    key = (name, dialect, _scope_key(user), tuple(sorted((k, value_of(v)) for k, v in filters.items())))
    cache = current_app.extensions.setdefault("labsafe_ticket_listing_plans", OrderedDict())
    with _plan_lock:
        plan = cache.get(key)
        if plan is not None:
            cache.move_to_end(key)
            return plan
    lab_sized = _lab_sized(user, filters)
    base = _filtered(stmt, user, dialect, lab_sized, **filters)
    state = value_of(filters.get("state"))
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
        by["state"][value_of(state)] = by["state"].get(value_of(state), 0) + n
        by["level"][value_of(level)] = by["level"].get(value_of(level), 0) + n
        if is_late:
            by["overdue"] += n
    return by


# ---- what the issued documents are due for (app.documents issues them, art. 28, 29) -----------------

def written_reports_due(since: datetime) -> list[RectificationTicket]:
    """Tickets reported in writing (art. 29): a major hazard, or one its lab declared it cannot fix
    for now, opened or changed since ``since``. One query."""
    t = RectificationTicket
    return list(db.session.scalars(
        select(t).where(or_(t.severity == Severity.major, t.cannot_fix), t.updated_at >= since).order_by(t.id)
    ))


def inspections_with_tickets_since(since: datetime) -> list[int]:
    """The inspections that opened tickets since ``since`` (their failed items, art. 28): one query."""
    t = RectificationTicket
    return list(db.session.scalars(
        select(t.inspection_id).where(t.inspection_id.is_not(None), t.created_at >= since).distinct()
        .order_by(t.inspection_id)
    ))


def replies_due(since: datetime) -> list[RectificationTicket]:
    """Tickets whose fix was verified since ``since``: each gets its reply (整改回执, art. 28). One query."""
    t = RectificationTicket
    return list(db.session.scalars(
        select(t).where(t.state == TicketState.closed, t.closed_at >= since).order_by(t.id)
    ))

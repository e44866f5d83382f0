"""The ticket list read from its indexes (open part, then closed part) returns exactly what the single
``ORDER BY state = 'closed', deadline, id LIMIT .. OFFSET ..`` query returned: same rows, same order, same
pages, for every kind of scope and filter, in at most three queries."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.auth.models import Role
from app.extensions import db
from app.org.models import Lab
from app.tickets import listing
from app.tickets.listing import ticket_filter
from app.tickets.models import RectificationTicket, TicketLevel, TicketState
from app.timeutil import utcnow
from tests.factories import make_lab, make_ticket, make_user

T = RectificationTicket


def old_listing(user, *, state=None, level=None, overdue=False, lab_id=None, college_id=None, department_id=None,
                limit=200, offset=0) -> list[int]:
    """The listing query as it was before the indexes: one statement, the database sorts the whole scope."""
    stmt = select(T.id).join(Lab, Lab.id == T.lab_id).where(ticket_filter(user))
    if state:
        stmt = stmt.where(T.state == TicketState(state))
    if level:
        stmt = stmt.where(T.level == TicketLevel(level))
    if overdue:
        stmt = stmt.where(T.state != TicketState.closed, T.deadline < utcnow())
    if lab_id is not None:
        stmt = stmt.where(T.lab_id == lab_id)
    if college_id is not None:
        stmt = stmt.where(Lab.college_id == college_id)
    if department_id is not None:
        stmt = stmt.where(T.department_id == department_id)
    stmt = stmt.order_by((T.state == TicketState.closed).asc(), T.deadline, T.id).limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


@pytest.fixture
def mixed(w):
    """~70 tickets in three labs (two colleges): every state, past and future deadlines, ties on the
    deadline (the id decides), both levels, routed to different departments or none."""
    lab2 = make_lab(w.college)
    labs = [w.lab, lab2, w.other_lab]
    states = [TicketState.open, TicketState.closed, TicketState.fixing, TicketState.closed,
              TicketState.fix_submitted, TicketState.closed, TicketState.closed]
    articles = ["24(6)", "21", "23", "16(2)"]  # routed to different departments (art. 9)
    now = utcnow().replace(microsecond=0)
    tickets = []
    for i in range(70):
        t = make_ticket(labs[i % 3], article=articles[i % 4], severity="major" if i % 11 == 0 else "general")
        t.state = states[i % len(states)]
        # Deadlines from 20 days ago to 15 days ahead; every fifth shares the one before's (ties).
        t.deadline = now + timedelta(days=(i * 7) % 36 - 20) if i % 5 else tickets[-1].deadline if tickets else now
        if t.state == TicketState.closed:
            t.closed_at, t.fixed_by_id = now, w.officer.id
        if i % 9 == 0:
            t.department_id = None
        tickets.append(t)
    db.session.commit()
    w.lab2 = lab2
    return tickets


def _users(w):
    both = make_user(Role.lab_officer, lab=w.other_lab)  # an officer elsewhere who also leads w.college
    from app.auth.models import RoleAssignment

    both.roles.append(RoleAssignment(role=Role.college_leader, college_id=w.college.id))
    db.session.commit()
    return {"admin": w.admin, "leader": w.leader, "dept": w.dept_lab_mgmt, "officer": w.officer,
            "other_leader": w.other_leader, "officer+leader": both, "inspector": w.inspector}


def _filters(w):
    return [
        {}, {"state": "open"}, {"state": "fixing"}, {"state": "fix_submitted"}, {"state": "closed"},
        {"level": "lab"}, {"level": "college"}, {"overdue": True}, {"overdue": True, "level": "lab"},
        {"lab_id": w.lab.id}, {"lab_id": w.lab2.id, "state": "closed"}, {"college_id": w.college.id},
        {"department_id": w.lab_mgmt.id},
    ]


def test_same_rows_and_order_as_the_single_sorted_query(w, mixed):
    users = _users(w)
    assert len(old_listing(w.admin)) == 70
    closed = set(db.session.scalars(select(T.id).where(T.state == TicketState.closed)))
    checked = 0
    for name, user in users.items():
        for f in _filters(w):
            everything = old_listing(user, limit=500, **f)
            assert [r[0] for r in listing.ticket_rows_in_scope(user, limit=500, **f)] == everything, (name, f)
            assert [t.id for t in listing.tickets_in_scope(user, limit=500, **f)] == everything, (name, f)
            n_open = sum(1 for i in everything if i not in closed)
            # Pages around the open/closed boundary, before it, after it and past the end.
            offsets = {0, 1, max(0, n_open - 3), max(0, n_open - 1), n_open, n_open + 1, n_open + 4,
                       len(everything) - 1, len(everything), len(everything) + 5}
            for limit in (1, 2, 5, 50):
                for offset in sorted(o for o in offsets if o >= 0):
                    expected = old_listing(user, limit=limit, offset=offset, **f)
                    assert expected == everything[offset:offset + limit]
                    got = [r[0] for r in listing.ticket_rows_in_scope(user, limit=limit, offset=offset, **f)]
                    assert got == expected, (name, f, limit, offset)
                    checked += 1
    assert checked > 1000


def test_walking_every_page_of_the_school_in_small_pages(w, mixed):
    """The whole list page by page (a page ending exactly on the boundary, and one straddling it)."""
    everything = old_listing(w.admin, limit=500)
    n_open = sum(1 for t in mixed if t.state != TicketState.closed)
    assert 0 < n_open < len(everything)
    for limit in (3, 7, n_open, n_open - 1):
        seen, offset = [], 0
        while page := [r[0] for r in listing.ticket_rows_in_scope(w.admin, limit=limit, offset=offset)]:
            assert page == old_listing(w.admin, limit=limit, offset=offset)
            seen += page
            offset += limit
        assert seen == everything, limit


def test_no_open_tickets_and_no_closed_ones(w):
    """Edge cases: a scope with only closed tickets (the closed part from offset on), with none at all."""
    made = [make_ticket(w.lab, deadline=datetime(2030, 1, 1) + timedelta(hours=i)) for i in range(4)]
    for t in made:
        t.state = TicketState.closed
    db.session.commit()
    for offset in range(6):
        assert [r[0] for r in listing.ticket_rows_in_scope(w.admin, limit=2, offset=offset)] == \
            [t.id for t in made][offset:offset + 2]
    assert listing.ticket_rows_in_scope(w.other_leader) == []
    assert listing.ticket_rows_in_scope(w.admin, state="open") == []


def test_at_most_three_queries_whatever_the_page(w, mixed):
    statements = []

    def count(conn, cursor, statement, *args):
        if "rectification_tickets" in statement:
            statements.append(statement)

    engine = db.session.get_bind()
    for user in (w.admin, w.leader, w.officer):
        listing.ticket_rows_in_scope(user)  # the user's roles are loaded once, outside the count
        n = len(old_listing(user, limit=500))
        event.listen(engine, "before_cursor_execute", count)
        try:
            for offset in (0, 10, 30, n - 1, n, n + 10):
                statements.clear()
                listing.ticket_rows_in_scope(user, limit=5, offset=offset)
                assert 1 <= len(statements) <= 3, (user.id, offset, statements)
        finally:
            event.remove(engine, "before_cursor_execute", count)


def test_the_open_part_walks_its_index_without_sorting(w, mixed):
    """The plan for a school-wide and a college-wide list: the open part's first page comes from the
    partial index in order (no sort step), as does the closed part (SQLite's EXPLAIN QUERY PLAN,
    PostgreSQL's EXPLAIN with sequential scans and sorts made expensive, as on a big table)."""
    conn = db.session.connection()
    captured = []

    def run(stmt, params):
        captured.append(stmt.params(**params))
        return []

    for user in (w.admin, w.leader):
        captured.clear()
        listing._in_scope(run, "test", listing._LISTING, user, limit=50)
        listing._in_scope(run, "test", listing._LISTING, user, limit=50, state="closed")
        assert len(captured) == 3  # open part, closed part (the open one "came back" empty), closed filter
        for stmt in captured:
            sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            if conn.dialect.name == "sqlite":
                plan = " | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                assert "TEMP B-TREE" not in plan, plan
                assert ("ix_rectification_tickets_open_deadline_id" in plan
                        or "ix_rectification_tickets_state_deadline_id" in plan), plan
            else:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                conn.exec_driver_sql("SET LOCAL enable_sort = off")
                # An incremental sort is a sort too: with fresh statistics (autovacuum's ANALYZE
                # after a busy suite) the planner may otherwise walk the deadline index and sort.
                conn.exec_driver_sql("SET LOCAL enable_incremental_sort = off")
                conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
                plan = " | ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
                assert "Sort" not in plan, plan
                assert ("ix_rectification_tickets_open_deadline_id" in plan
                        or "ix_rectification_tickets_state_deadline_id" in plan), plan
    db.session.rollback()


def test_a_reused_listing_plan_sees_the_current_time_and_the_current_roles(w, mixed):
    # The statements are built once per listing shape (listing._listing_plan): "overdue" must still
    # compare with the time of each request, and a changed role must change the scope at once.
    from app.auth import services as auth

    fresh = make_ticket(w.lab)
    fresh.deadline = utcnow() + timedelta(hours=1)
    db.session.commit()
    assert fresh.id not in [r[0] for r in listing.ticket_rows_in_scope(w.admin, overdue=True, limit=500)]
    fresh.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert fresh.id in [r[0] for r in listing.ticket_rows_in_scope(w.admin, overdue=True, limit=500)]

    leader = make_user(Role.college_leader, college=w.college)
    before = [r[0] for r in listing.ticket_rows_in_scope(leader, limit=500)]
    assert before == old_listing(leader, limit=500)
    auth.grant_role(leader, Role.college_leader, college_id=w.other_lab.college_id)
    db.session.commit()
    after = [r[0] for r in listing.ticket_rows_in_scope(leader, limit=500)]
    assert after == old_listing(leader, limit=500) and set(after) > set(before)

"""The ticket listing's fast path (rows -> dicts, no marshmallow) writes exactly what TicketSchema dumps,
in the order and scope of tickets_in_scope (the listing behind GET /api/tickets)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.org.models import Department, Lab
from app.tickets import escalation, listing, serialize
from app.tickets.models import RectificationTicket, TicketLevel, TicketState
from app.tickets.schemas import TICKET_QUERY, TicketSchema, UtcDateTime
from app.timeutil import utcnow
from tests.factories import login, make_ticket


def entity_listing(t):
    lab = db.session.get(Lab, t.lab_id)
    dept = db.session.get(Department, t.department_id) if t.department_id else None
    return serialize._plain(t, lab, dept, utcnow(), serialize._utc_iso)


def schema_dump(tickets, now):
    """The listing as it was written before the fast path: entities + their lab and department, TicketSchema."""
    rows = []
    for t in tickets:
        lab = db.session.get(Lab, t.lab_id)
        dept = db.session.get(Department, t.department_id) if t.department_id else None
        rows.append({
            "id": t.id, "lab_id": t.lab_id, "lab_name": lab.name, "college_id": lab.college_id,
            "inspection_id": t.inspection_id, "article": t.article, "title": t.title,
            "description": t.description or "", "severity": t.severity.value, "state": t.state.value,
            "level": t.level.value,
            "department": {"id": dept.id, "code": dept.code, "name": dept.name} if dept else None,
            "deadline": t.deadline, "overdue": escalation.is_overdue(t, now), "cannot_fix": bool(t.cannot_fix),
            "interim_measures": t.interim_measures or "", "fixed_by_id": t.fixed_by_id,
            "created_at": t.created_at, "updated_at": t.updated_at, "closed_at": t.closed_at,
            "escalated_at": t.escalated_at, "version": t.version, "url": escalation.ticket_link(t),
        })
    return TicketSchema(many=True).dump(rows)


@pytest.fixture
def varied(w):
    """Tickets covering every shape a field can take: no department, closed, escalated, cannot fix,
    overdue, datetimes with and without microseconds, another college's lab."""
    plain = make_ticket(w.lab, title="插线板串接", article="21")
    major = make_ticket(w.lab, severity="major", article="16(2)", description="通风橱\"故障\"\n")
    late = make_ticket(w.lab, deadline=datetime(2020, 1, 1, 8, 0, 0))
    closed = make_ticket(w.lab, article="23")
    nodept = make_ticket(w.lab)
    cannot = make_ticket(w.lab)
    theirs = make_ticket(w.other_lab)
    closed.state, closed.fixed_by_id = TicketState.closed, w.officer.id
    closed.closed_at = datetime(2026, 3, 1, 9, 30, 0, 1)
    closed.deadline = datetime(2020, 1, 1)  # closed tickets are never overdue
    nodept.department_id = None
    cannot.cannot_fix, cannot.interim_measures, cannot.level = True, "围挡并张贴警示", TicketLevel.college
    cannot.escalated_at = datetime(2026, 2, 1, 0, 0, 0, 123456)
    db.session.commit()
    return [plain, major, late, closed, nodept, cannot, theirs]


def test_fast_listing_equals_the_schema_dump(w, varied):
    now = utcnow()
    for user in (w.leader, w.admin, w.officer, w.dept_assets, w.other_leader):
        entities = listing.tickets_in_scope(user)
        rows = listing.ticket_rows_in_scope(user)
        assert serialize.ticket_rows_list(rows, now) == schema_dump(entities, now)
        # The entity path (ticket_detail's fields) writes the same listing fields.
        assert [entity_listing(t) for t in entities] == serialize.ticket_rows_list(rows)
    everything = serialize.tickets_page(w.admin)
    assert {t["id"] for t in everything} == {t.id for t in varied}
    assert any(t["department"] is None for t in everything) and any(t["closed_at"] for t in everything)
    assert any(t["overdue"] for t in everything) and any(t["escalated_at"] for t in everything)


FILTERS = [
    {}, {"state": "open"}, {"state": TicketState.closed}, {"level": "college"}, {"overdue": True},
    {"limit": 2}, {"limit": 2, "offset": 2}, {"offset": 100}, {"state": "fixing"},
]


def test_same_scope_filters_and_order_as_tickets_in_scope(w, varied):
    filters = FILTERS + [{"lab_id": w.lab.id}, {"lab_id": w.other_lab.id}, {"college_id": w.other_college.id},
                         {"department_id": w.security.id}]
    for user in (w.leader, w.admin, w.officer, w.dept_security, w.other_officer, w.inspector):
        for f in filters:
            expected = [t.id for t in listing.tickets_in_scope(user, **f)]
            assert [t["id"] for t in serialize.tickets_page(user, **f)] == expected, (user.id, f)


def test_api_json_is_the_schema_dump(client, w, varied):
    login(client, w.leader)
    for query in ("", "?state=open", "?overdue=1", "?limit=1&offset=1", f"?lab_id={w.lab.id}"):
        body = client.get(f"/api/tickets{query}").get_json()
        args = TICKET_QUERY.load(dict(p.split("=") for p in query[1:].split("&") if p))
        now = utcnow()
        expected = schema_dump(listing.tickets_in_scope(w.leader, **args), now)
        assert body == json.loads(json.dumps(expected))
    lab_body = client.get(f"/api/labs/{w.lab.id}/tickets").get_json()
    assert lab_body == json.loads(json.dumps(schema_dump(listing.tickets_in_scope(w.leader, lab_id=w.lab.id), now)))


@pytest.mark.parametrize("value", [
    None, datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 3, 4, 5, 60),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=timezone(timedelta(hours=8))),
])
def test_utc_iso_writes_what_the_schema_field_writes(value):
    assert serialize._utc_iso(value) == UtcDateTime()._serialize(value, "x", None)


def test_counts_in_scope_match_the_open_tickets(w, varied):
    now = utcnow()
    for user in (w.leader, w.admin, w.dept_lab_mgmt, w.other_officer):
        open_ = [t for t in listing.tickets_in_scope(user, limit=500) if t.state != TicketState.closed]
        expected = {"state": {}, "level": {}, "overdue": sum(1 for t in open_ if t.deadline < now)}
        for t in open_:
            expected["state"][t.state.value] = expected["state"].get(t.state.value, 0) + 1
            expected["level"][t.level.value] = expected["level"].get(t.level.value, 0) + 1
        assert listing.counts_in_scope(user) == expected


def test_list_page_shows_the_tickets(client, w, varied):
    login(client, w.leader)
    html = client.get("/tickets").get_data(as_text=True)
    mine = db.session.scalars(select(RectificationTicket).where(RectificationTicket.lab_id == w.lab.id)).all()
    assert all(t.title in html for t in mine) and "插线板串接" in html
    assert varied[-1].title not in html

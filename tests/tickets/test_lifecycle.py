"""The state machine: each transition, each refusal, every change an event (art. 29, 30)."""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, Forbidden, InvalidInput
from app.extensions import db
from app.tickets import lifecycle
from app.tickets.guards import TicketDeletionRefused
from app.tickets.models import RectificationTicket, TicketEvent, TicketEventPhoto, TicketLevel, TicketState
from tests.factories import make_photo_row, make_ticket


def act(user, ticket, action, **kw):
    return lifecycle.perform_action(user, ticket.id, action, config=current_app.config, **kw)


def events(ticket):
    return list(
        db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
    )


def test_the_happy_path_records_every_step(w):
    t = make_ticket(w.lab, actor=w.inspector)
    assert (t.state, t.level, t.version) == (TicketState.open, TicketLevel.lab, 1)
    act(w.officer, t, "start_fix", note="ordering a new cabinet")
    assert t.state == TicketState.fixing
    photo = make_photo_row(w.officer)
    act(w.officer, t, "submit_fix", note="cabinet installed", photos=[photo.uuid])
    assert t.state == TicketState.fix_submitted and t.fixed_by_id == w.officer.id
    act(w.leader, t, "verify", note="checked on site, cabinet locked")
    assert t.state == TicketState.closed and t.closed_at is not None
    kinds = [(e.kind, e.actor_id, e.from_state, e.to_state) for e in events(t)]
    assert kinds == [
        ("created", w.inspector.id, None, "open"),
        ("start_fix", w.officer.id, "open", "fixing"),
        ("submit_fix", w.officer.id, "fixing", "fix_submitted"),
        ("verify", w.leader.id, "fix_submitted", "closed"),
    ]
    submit = events(t)[2]
    assert [p.photo_uuid for p in submit.photos] == [photo.uuid]
    assert events(t)[3].note == "checked on site, cabinet locked"
    assert t.version == 4


def test_reject_sends_it_back_with_a_reason(w):
    t = make_ticket(w.lab)
    act(w.officer, t, "start_fix")
    act(w.officer, t, "submit_fix", note="done", photos=[make_photo_row(w.officer).uuid])
    with pytest.raises(InvalidInput):
        act(w.leader, t, "reject", note="  ")
    act(w.leader, t, "reject", note="the cabinet has no lock")
    assert t.state == TicketState.fixing
    assert events(t)[-1].kind == "reject" and events(t)[-1].note == "the cabinet has no lock"
    # Fixed again and verified by someone else.
    act(w.officer2, t, "submit_fix", note="lock fitted", photos=[make_photo_row(w.officer2).uuid])
    assert t.fixed_by_id == w.officer2.id
    act(w.dept_lab_mgmt, t, "verify", note="seen")  # the routed department may verify (art. 9)
    assert t.state == TicketState.closed


def test_submit_fix_needs_a_note_and_an_after_photo(w):
    t = make_ticket(w.lab)
    act(w.officer, t, "start_fix")
    with pytest.raises(InvalidInput, match="photo"):
        act(w.officer, t, "submit_fix", note="done")
    with pytest.raises(InvalidInput, match="fix the hazard"):
        act(w.officer, t, "submit_fix", note="", photos=[make_photo_row(w.officer).uuid])
    with pytest.raises(InvalidInput) as err:
        act(w.officer, t, "submit_fix", note="done", photos=[make_photo_row(w.officer2).uuid])
    assert err.value.details["foreign_photos"]  # someone else's photo cannot be attached
    with pytest.raises(InvalidInput) as err:
        act(w.officer, t, "submit_fix", note="done", photos=["not-a-uuid"])
    assert err.value.details["photos"] == ["not-a-uuid"]
    db.session.expire_all()
    assert t.state == TicketState.fixing and len(events(t)) == 2  # nothing half-written


def test_the_fixer_cannot_verify_their_own_fix(w):
    # A college leader who is also an officer of the lab fixes it: someone else must verify.
    from app.auth.services import grant_role

    grant_role(w.leader, "lab_officer", lab_id=w.lab.id)
    db.session.commit()
    t = make_ticket(w.lab)
    act(w.leader, t, "start_fix")
    act(w.leader, t, "submit_fix", note="done", photos=[make_photo_row(w.leader).uuid])
    assert "verify" not in lifecycle.allowed_actions(w.leader, t)
    with pytest.raises(Forbidden, match="cannot verify"):
        act(w.leader, t, "verify", note="fine")
    act(w.leader2, t, "verify", note="checked")
    assert t.state == TicketState.closed


@pytest.mark.parametrize("who,action", [
    ("leader", "start_fix"), ("head", "start_fix"), ("inspector", "start_fix"), ("other_officer", "start_fix"),
    ("dept_security", "start_fix"),
    ("officer", "verify"), ("head", "verify"), ("inspector", "verify"), ("other_leader", "verify"),
    ("dept_security", "verify"),  # not this department's remit
    ("officer", "escalate"), ("head", "escalate"), ("other_leader", "escalate"),
])
def test_wrong_person_is_refused(w, who, action):
    t = make_ticket(w.lab)
    if action == "verify":
        act(w.officer, t, "start_fix")
        act(w.officer, t, "submit_fix", note="done", photos=[make_photo_row(w.officer).uuid])
    before = len(events(t))
    with pytest.raises(Forbidden):
        act(getattr(w, who), t, action, note="x")
    assert len(events(t)) == before


@pytest.mark.parametrize("action,state", [
    ("start_fix", "fixing"), ("submit_fix", "open"), ("verify", "open"), ("verify", "fixing"), ("reject", "fixing"),
    ("declare_cannot_fix", "fix_submitted"), ("escalate", "closed"), ("start_fix", "closed"),
])
def test_wrong_state_is_a_conflict(w, action, state):
    t = make_ticket(w.lab)
    photo = make_photo_row(w.officer)
    path = {"open": [], "fixing": ["start_fix"], "fix_submitted": ["start_fix", "submit_fix"],
            "closed": ["start_fix", "submit_fix", "verify"]}[state]
    for step in path:
        user = w.leader if step == "verify" else w.officer
        act(user, t, step, note="n", photos=[photo.uuid] if step == "submit_fix" else [])
    assert t.state.value == state
    user = w.leader if action in ("verify", "reject", "escalate") else w.officer
    with pytest.raises(Conflict):
        act(user, t, action, note="n", photos=[photo.uuid] if user == w.officer else [], interim_measures="tape")


def test_a_stale_version_is_a_conflict(w):
    t = make_ticket(w.lab)
    act(w.officer, t, "start_fix", version=1)
    with pytest.raises(Conflict, match="changed"):
        act(w.officer, t, "declare_cannot_fix", interim_measures="cordon", version=1)
    act(w.officer, t, "declare_cannot_fix", interim_measures="cordon", version=t.version)


def test_declare_cannot_fix_needs_interim_measures_and_raises_to_college(w):
    t = make_ticket(w.lab)
    with pytest.raises(InvalidInput, match="interim"):
        act(w.officer, t, "declare_cannot_fix", note="needs a contractor")
    act(w.officer, t, "declare_cannot_fix", note="needs a contractor", interim_measures="area cordoned, sign posted")
    assert t.cannot_fix and t.interim_measures == "area cordoned, sign posted"
    assert (t.state, t.level) == (TicketState.fixing, TicketLevel.college)
    assert t.deadline > t.updated_at
    kinds = [(e.kind, e.from_level, e.to_level, e.actor_id) for e in events(t)][1:]
    assert kinds == [("declare_cannot_fix", "lab", "lab", w.officer.id), ("escalate", "lab", "college", w.officer.id)]
    with pytest.raises(Conflict, match="already declared"):
        act(w.officer, t, "declare_cannot_fix", interim_measures="again")


def test_manual_escalation_climbs_one_level_with_a_reason_and_a_new_deadline(w):
    t = make_ticket(w.lab)
    with pytest.raises(InvalidInput):
        act(w.leader, t, "escalate", note="")
    old_deadline = t.deadline
    act(w.leader, t, "escalate", note="repeated finding")
    assert t.level == TicketLevel.college and t.deadline != old_deadline
    act(w.admin, t, "escalate", note="college cannot resolve")
    assert t.level == TicketLevel.school
    with pytest.raises(Conflict, match="school level"):
        act(w.admin, t, "escalate", note="again")
    assert [e.to_level for e in events(t) if e.kind == "escalate"] == ["college", "school"]


def test_a_major_hazard_goes_to_the_college_at_once(w):
    t = make_ticket(w.lab, severity="major", article="16(2)")
    assert t.level == TicketLevel.college
    evs = events(t)
    assert [(e.kind, e.to_level, e.actor_id) for e in evs] == [("created", "lab", None), ("escalate", "college", None)]
    cfg = current_app.config["TICKET_DEADLINE_DAYS"]
    assert (t.deadline - t.escalated_at).days == cfg[("major", "college")]


def test_allowed_actions_follow_role_and_state(w):
    t = make_ticket(w.lab)
    assert lifecycle.allowed_actions(w.officer, t) == ["start_fix", "declare_cannot_fix"]
    assert lifecycle.allowed_actions(w.leader, t) == ["escalate"]
    assert lifecycle.allowed_actions(w.head, t) == []
    act(w.officer, t, "start_fix")
    act(w.officer, t, "submit_fix", note="x", photos=[make_photo_row(w.officer).uuid])
    assert lifecycle.allowed_actions(w.leader, t) == ["verify", "reject", "escalate"]
    assert lifecycle.allowed_actions(w.officer, t) == []


def test_tickets_and_events_are_never_deleted(w, is_postgres):
    from sqlalchemy import delete, text

    t = make_ticket(w.lab)
    db.session.delete(t)
    with pytest.raises(TicketDeletionRefused):
        db.session.flush()
    db.session.rollback()
    ev = events(t)[0]
    db.session.delete(ev)
    with pytest.raises(TicketDeletionRefused):
        db.session.commit()
    db.session.rollback()
    ev = events(t)[0]
    ev.note = "rewritten history"
    with pytest.raises(TicketDeletionRefused):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(TicketDeletionRefused):
        db.session.execute(delete(TicketEvent))
    db.session.rollback()
    if is_postgres:
        # Even raw SQL is refused by the row trigger.
        from sqlalchemy.exc import DBAPIError

        with pytest.raises(DBAPIError, match="never deleted"):
            db.session.execute(text("DELETE FROM ticket_events"))
        db.session.rollback()
    assert db.session.scalar(select(RectificationTicket.id).where(RectificationTicket.id == t.id)) == t.id
    assert len(events(t)) == 1
    assert db.session.scalar(select(TicketEventPhoto.id)) is None


def test_no_delete_route_exists(app):
    for rule in app.url_map.iter_rules():
        if "ticket" in rule.rule:
            assert "DELETE" not in rule.methods, rule.rule


@pytest.mark.parametrize("table", ["ticket_event_photos", "ticket_events", "rectification_tickets"])
def test_the_database_itself_refuses_deleting_tickets_and_their_history(w, table):
    """Art. 30, below the ORM: a raw DELETE from any client is refused by a trigger, on SQLite as on
    PostgreSQL, and the rows stay."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    t = make_ticket(w.lab)
    act(w.officer, t, "start_fix")
    act(w.officer, t, "submit_fix", note="fixed", photos=[make_photo_row(w.officer).uuid])
    db.session.commit()
    count = text(f"SELECT count(*) FROM {table}")
    before = db.session.scalar(count)
    assert before >= 1
    db.session.rollback()
    with pytest.raises(DBAPIError, match="never deleted"):
        with db.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {table}"))
    with pytest.raises(DBAPIError, match="never deleted"):
        with db.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {table} WHERE id = (SELECT max(id) FROM {table})"))
    assert db.session.scalar(count) == before

"""Two people act on the same ticket at once: exactly one transition, the other gets 409."""
from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.tickets import lifecycle
from app.tickets.models import RectificationTicket, TicketEvent, TicketState
from tests.factories import make_photo_row, make_ticket


def _race(app, ticket_id, moves):
    """Each move runs in its own thread, app context, session and connection; a barrier makes
    both read the ticket before either writes."""
    barrier = threading.Barrier(len(moves))
    outcomes = [None] * len(moves)

    def worker(i, user_id, action, note):
        with app.app_context():
            try:
                from app.auth.models import User

                user = db.session.get(User, user_id)
                ticket = lifecycle.get_ticket(ticket_id)  # both read version N ...
                seen = ticket.version
                barrier.wait(timeout=10)  # ... before either writes
                lifecycle.perform_action(user, ticket_id, action, config=current_app.config, note=note,
                                        version=seen)
                outcomes[i] = "ok"
            except Conflict as exc:
                outcomes[i] = ("409", exc.message)
            except Exception as exc:  # pragma: no cover - reported by the assertion
                outcomes[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, *m)) for i, m in enumerate(moves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def _submitted(w):
    t = make_ticket(w.lab)
    lifecycle.perform_action(w.officer, t.id, "start_fix", config=current_app.config)
    lifecycle.perform_action(w.officer, t.id, "submit_fix", config=current_app.config, note="done",
                            photos=[make_photo_row(w.officer).uuid])
    return t.id


def test_verify_and_reject_at_once_make_exactly_one_transition(app, w):
    ticket_id = _submitted(w)
    events_before = db.session.scalar(select(func.count()).select_from(TicketEvent))
    outcomes = _race(app, ticket_id, [(w.leader.id, "verify", "checked"), (w.leader2.id, "reject", "not fixed")])
    assert sorted(o if o == "ok" else o[0] for o in outcomes) == ["409", "ok"], outcomes
    loser = next(o for o in outcomes if o != "ok")
    assert "reload" in loser[1]
    db.session.expire_all()
    ticket = db.session.get(RectificationTicket, ticket_id)
    assert ticket.state in (TicketState.closed, TicketState.fixing)
    assert db.session.scalar(select(func.count()).select_from(TicketEvent)) == events_before + 1


def test_two_verifiers_at_once_close_it_once(app, w):
    ticket_id = _submitted(w)
    outcomes = _race(app, ticket_id, [(w.leader.id, "verify", "a"), (w.dept_lab_mgmt.id, "verify", "b")])
    assert sorted(o if o == "ok" else o[0] for o in outcomes) == ["409", "ok"], outcomes
    db.session.expire_all()
    verifies = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                            TicketEvent.kind == "verify")).all()
    assert len(verifies) == 1

"""Two people triage the same report at once (an officer opens a ticket, a leader closes it): the
report is handled once, the other is told it was already handled (409), and no ticket is left behind."""
from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import func, select

from app.auth.models import User
from app.errors import Conflict
from app.extensions import db
from app.hazards import services
from app.hazards.models import HazardReport, HazardReportEvent, ReportState
from app.tickets.models import RectificationTicket
from tests.factories.hazards import make_report


def test_a_ticket_and_a_close_at_once_handle_the_report_once(app, w):
    report_id = make_report(w.lab, w.reporter).id
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def worker(i, user_id, act):
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                barrier.wait(timeout=10)
                act(user)
                outcomes[i] = "ok"
            except Conflict:
                outcomes[i] = "409"
            except Exception as exc:  # pragma: no cover - reported by the assertion
                outcomes[i] = repr(exc)
            finally:
                db.session.remove()

    def ticket(user):
        services.open_ticket(user, report_id, article="30", severity="general", title=None, config=current_app.config)

    def close(user):
        services.close_report(user, report_id, reason="重复报告", config=current_app.config)

    threads = [threading.Thread(target=worker, args=(0, w.officer.id, ticket)),
               threading.Thread(target=worker, args=(1, w.leader.id, close))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["409", "ok"], outcomes
    db.session.expire_all()
    report = db.session.get(HazardReport, report_id)
    tickets = db.session.scalar(select(func.count()).select_from(RectificationTicket))
    assert (report.state, tickets) in ((ReportState.ticketed, 1), (ReportState.closed, 0))
    assert db.session.scalar(select(func.count()).select_from(HazardReportEvent)) == 2  # reported + one outcome

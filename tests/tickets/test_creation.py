"""Opening a ticket with Core INSERTs (no ORM flush): the rows, the history (art. 30), the
deadlines (art. 29) and the notices are those the ORM path wrote, in few statements."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import event, select

from app.extensions import db
from app.inspections.schemas import InspectionInSchema
from app.inspections.services import submit_inspection
from app.notifications.models import Notification
from app.tickets.models import RectificationTicket, TicketEvent
from tests.factories import make_checklist_version
from tests.factories.inspections import inspection_payload

ITEMS = (
    {"article": "23", "text": "灭火器在位", "severity": "general"},
    {"article": "16(2)", "text": "剧毒化学品双人双锁", "severity": "major"},
)


def _submit(w, version, results, notes=None):
    data = InspectionInSchema().load(inspection_payload(w.lab, version, results=results, notes=notes))
    return submit_inspection(w.inspector, data, current_app.config)


def test_tickets_opened_by_an_inspection_are_stored_as_before(app, w):
    version = make_checklist_version(items=ITEMS)
    general, major = version.items
    outcome = _submit(w, version, {general.id: "fail", major.id: "fail"}, {general.id: "缺失", major.id: ""})
    db.session.expire_all()
    tickets = {t.article: t for t in db.session.scalars(select(RectificationTicket))}
    assert sorted(t.id for t in tickets.values()) == outcome.status.ticket_ids
    days = current_app.config["TICKET_DEADLINE_DAYS"]
    g, m = tickets["23"], tickets["16(2)"]
    for t, item in ((g, general), (m, major)):
        assert (t.lab_id, t.inspection_id, t.item_id, t.title, t.title_en) == (
            w.lab.id, outcome.id, item.id, item.text, item.text_en)
        assert (t.state.value, t.cannot_fix, t.interim_measures, t.closed_at, t.fixed_by_id) == (
            "open",
            False,
            "",
            None,
            None,
        )
        assert t.created_at == t.updated_at
    assert (g.description, g.severity.value, g.department_id) == ("缺失", "general", w.security.id)
    assert (g.level.value, g.version, g.escalated_at) == ("lab", 1, None)
    assert g.deadline - g.created_at == timedelta(days=days[("general", "lab")])
    # Art. 29: a major hazard starts at college level with the college's deadline; the row is what
    # the insert-then-escalate left (version 2).
    assert (m.description, m.severity.value, m.department_id) == ("", "major", w.lab_mgmt.id)
    assert (m.level.value, m.version, m.escalated_at) == ("college", 2, m.created_at)
    assert m.deadline - m.created_at == timedelta(days=days[("major", "college")])

    evs = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.actor_id, TicketEvent.kind, TicketEvent.from_state,
               TicketEvent.to_state, TicketEvent.from_level, TicketEvent.to_level, TicketEvent.note,
               TicketEvent.note_key, TicketEvent.note_params, TicketEvent.created_at).order_by(TicketEvent.id)
    ).all()
    assert [tuple(e) for e in evs] == [
        (g.id, w.inspector.id, "created", None, "open", None, "lab", "缺失", None, None, g.created_at),
        (m.id, w.inspector.id, "created", None, "open", None, "lab", "", None, None, m.created_at),
        (m.id, None, "escalate", "open", "open", "lab", "college", "", "major_at_once", {}, m.created_at),
    ]

    notes = {(n.user_id, n.kind, n.ticket_id, n.dedupe_key)
             for n in db.session.scalars(select(Notification))}
    expected = {(o.id, "new_ticket", t.id, f"ticket:{t.id}:created") for o in (w.officer, w.officer2) for t in (g, m)}
    expected |= {(u.id, "escalated", m.id, f"ticket:{m.id}:level:college") for u in (w.leader, w.leader2, w.head)}
    expected |= {(w.dept_lab_mgmt.id, "routed", m.id, f"ticket:{m.id}:dept:college")}
    assert notes == expected
    title = db.session.scalar(select(Notification.title).where(Notification.ticket_id == g.id))
    assert title == f"{w.lab.name} · 23 · {general.text}"


def test_opening_a_ticket_for_a_new_answer_takes_four_statements(app, w):
    """INSERT ticket (department by subquery) RETURNING, INSERT event, the officers' notices (the
    officers read inside it) and their e-mails: no lookup of an existing ticket, of the department,
    of the lab or of the officers on their own."""
    version = make_checklist_version(items=ITEMS[:1])
    item = version.items[0]
    engine = db.session.get_bind()

    def statements(results):
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            _submit(w, version, results)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return seen

    statements({})  # warm: the version snapshot, the compiled statements
    passed, failed = statements({}), statements({item.id: "fail"})
    assert len(failed) - len(passed) == 4, failed


def test_lab_officers_get_the_notices_and_emails_notify_wrote(app, w):
    """notify_lab_officers reads the officers inside its INSERT: the same notices, e-mails and
    returned ids as notify(lab_officers(...)), with officers without an address, inactive, listed
    twice or already holding the notice (dedupe), and none at all for a lab without officers."""
    from app.auth.models import Role, RoleAssignment
    from app.notifications import services as notices
    from app.notifications.models import OutboxEmail
    from tests.factories import make_lab, make_user

    make_user(Role.lab_officer, lab=w.lab, email="")
    make_user(Role.lab_officer, lab=w.lab).active = False
    w.officer2.roles.append(RoleAssignment(role=Role.lab_officer, lab_id=w.lab.id))  # listed twice
    db.session.commit()
    config = current_app.config
    for key in ("old", "new"):  # the first officer has both notices already
        notices.notify([w.officer], kind=notices.NEW_TICKET, facts=notices.TitleFacts(title="x"), config=config,
                       dedupe_key=key)
    common = dict(kind=notices.NEW_TICKET, facts=notices.TitleFacts(lab="化学", article="16(2)", title="危" * 310),
                  body="正文\n第二行", link="/tickets/9", config=config)

    def stored(ids):
        order = {notification_id: n for n, notification_id in enumerate(ids)}
        rows = db.session.execute(
            select(Notification.id, Notification.user_id, Notification.kind, Notification.title, Notification.params,
                   Notification.body,
                   Notification.link, Notification.ticket_id, Notification.lab_id)
            .where(Notification.id.in_(ids)).order_by(Notification.id)
        ).all()
        mails = db.session.execute(
            select(OutboxEmail.notification_id, OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body,
                   OutboxEmail.attempts, OutboxEmail.sent_at).where(OutboxEmail.notification_id.in_(ids))
            .order_by(OutboxEmail.id)
        ).all()
        return [(order[r[0]], *r[1:]) for r in rows], [(order[m[0]], *m[1:]) for m in mails]

    for old_key, new_key in (("old", "new"), (None, None)):
        before = notices.notify(notices.lab_officers(w.lab.id), lab_id=w.lab.id, dedupe_key=old_key, **common)
        after = notices.notify_lab_officers(w.lab.id, dedupe_key=new_key, **common)
        assert len(after) == (2 if old_key else 3) and stored(after) == stored(before)
    assert notices.notify_lab_officers(make_lab(w.college).id, **common) == []

"""DEMO ONLY: move timestamps that services stamped with "now" back to the simulated moment.

The demo drives the real services (inspections, photos, tickets, the nightly job). Inspections take
the device's times, but the ticket services, notices and the nightly job stamp ``utcnow()`` and
take no time argument. To make two months of history read like two months, the demo calls a
service, then shifts exactly the rows and columns that call wrote by (simulated moment - the
service's now). Nothing else is touched, and nothing outside ``app/demo`` uses this module.

Core UPDATEs on the tables (not ORM flushes): ticket events are append-only for the ORM (art. 30)
and the ticket's optimistic version must not move. The PostgreSQL guard only refuses DELETE.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from app.extensions import db
from app.hazards.models import HazardReport, HazardReportEvent
from app.inspections.models import Inspection, MissedDailyCheck
from app.jobs.models import NightlyRun
from app.notifications.models import Notification, OutboxEmail
from app.org.models import Lab
from app.photos.models import Photo
from app.tickets.models import RectificationTicket, TicketEvent

TICKET_TIMES = ("created_at", "updated_at", "closed_at", "escalated_at", "deadline")
_T = RectificationTicket.__table__


@dataclass
class Mark:
    """Where the tables stood before a service call: rows after these ids are that call's."""

    ticket: int
    event: int
    notification: int
    email: int
    tickets_before: dict[int, tuple]


def _max_id(model) -> int:
    return db.session.scalar(select(func.coalesce(func.max(model.id), 0)))


def _ticket_times(ids) -> dict[int, tuple]:
    ids = list(ids)
    if not ids:
        return {}
    cols = [_T.c.id] + [_T.c[name] for name in TICKET_TIMES]
    return {row[0]: tuple(row[1:]) for row in db.session.execute(select(*cols).where(_T.c.id.in_(ids)))}


def mark(ticket_ids=()) -> Mark:
    return Mark(_max_id(RectificationTicket), _max_id(TicketEvent), _max_id(Notification), _max_id(OutboxEmail),
                _ticket_times(ticket_ids))


def _shift_rows(table, id_col, ids_and_times, delta, column="created_at") -> None:
    params = [{"_id": i, "_t": t + delta} for i, t in ids_and_times if t is not None]
    if params:
        db.session.execute(update(table).where(id_col == bindparam("_id")).values({column: bindparam("_t")}), params)


def shift_since(m: Mark, when: datetime, service_now: datetime | None = None) -> None:
    """Shift what was written since ``m`` so that the service's "now" becomes ``when``.

    ``service_now`` defaults to the time of the first ticket event written since the mark (the
    ticket services stamp every event of one call with one ``now``). Commits.
    """
    E, N, Out = TicketEvent.__table__, Notification.__table__, OutboxEmail.__table__
    if service_now is None:
        service_now = db.session.scalar(select(func.min(E.c.created_at)).where(E.c.id > m.event))
        if service_now is None:
            return
    delta = when - service_now
    _shift_rows(E, E.c.id, db.session.execute(select(E.c.id, E.c.created_at).where(E.c.id > m.event)).all(), delta)
    # An event's deadline was counted from the service's now too (the ticket's, shifted below).
    _shift_rows(E, E.c.id, db.session.execute(select(E.c.id, E.c.to_deadline).where(E.c.id > m.event)).all(), delta,
                column="to_deadline")
    _shift_rows(N, N.c.id,
                db.session.execute(select(N.c.id, N.c.created_at).where(N.c.id > m.notification)).all(), delta)
    _shift_rows(Out, Out.c.id,
                db.session.execute(select(Out.c.id, Out.c.created_at).where(Out.c.id > m.email)).all(), delta)
    # Tickets: the new ones wholly, the ones the call changed only in the columns it changed.
    new_ids = db.session.scalars(select(_T.c.id).where(_T.c.id > m.ticket)).all()
    after = _ticket_times(set(new_ids) | set(m.tickets_before))
    for ticket_id, values in after.items():
        before = m.tickets_before.get(ticket_id, (None,) * len(TICKET_TIMES))
        changed = {
            name: v + delta for name, v, b in zip(TICKET_TIMES, values, before, strict=True) if v is not None and v != b
        }
        if changed:
            db.session.execute(update(_T).where(_T.c.id == ticket_id).values(**changed))
    db.session.commit()
    db.session.expire_all()


def hazard_report_at(report_id: int, m: Mark, service_now: datetime, when: datetime) -> None:
    """After a hazard report's service call (report, open a ticket, close): what it wrote happened at
    ``when``: the report's times it set, its new events, and the tickets, events and notices since ``m``."""
    H, HE = HazardReport.__table__, HazardReportEvent.__table__
    delta = when - service_now
    for column in ("created_at", "handled_at"):
        rows = db.session.execute(select(H.c.id, H.c[column]).where(H.c.id == report_id, H.c[column] >= service_now))
        _shift_rows(H, H.c.id, rows.all(), delta, column=column)
    rows = db.session.execute(select(HE.c.id, HE.c.at).where(HE.c.report_id == report_id, HE.c.at >= service_now))
    _shift_rows(HE, HE.c.id, rows.all(), delta, column="at")
    shift_since(m, when, service_now)


def nightly_ran(day, m: Mark, when: datetime) -> None:
    """After ``process_day(day)``: the run, its flags, escalations and notices happened at ``when``."""
    R = NightlyRun.__table__
    started = db.session.scalar(select(R.c.started_at).where(R.c.day == day))
    if started is None:
        return
    delta = when - started
    finished = db.session.scalar(select(R.c.finished_at).where(R.c.day == day))
    db.session.execute(update(R).where(R.c.day == day).values(
        started_at=when, finished_at=(finished + delta) if finished else None))
    M = MissedDailyCheck.__table__
    db.session.execute(update(M).where(M.c.day == day, M.c.flagged_at >= started).values(flagged_at=when))
    # The job writes updated_at = its now on the tickets it escalates (escalated_at is already the day's end).
    db.session.execute(update(_T).where(_T.c.updated_at == started).values(updated_at=when))
    shift_since(m, when, service_now=started)


def received(rows: list[tuple[int, datetime]]) -> None:
    """Inspections' server receipt time (the service stamps now): a minute or two after finishing."""
    Ins = Inspection.__table__
    if rows:
        db.session.execute(update(Ins).where(Ins.c.id == bindparam("_id")).values(received_at=bindparam("_t")),
                           [{"_id": i, "_t": t} for i, t in rows])


def uploaded(rows: list[tuple[str, datetime]]) -> None:
    P = Photo.__table__
    if rows:
        db.session.execute(update(P).where(P.c.uuid == bindparam("_u")).values(uploaded_at=bindparam("_t")),
                           [{"_u": u, "_t": t} for u, t in rows])


def labs_existed_since(lab_ids, when: datetime) -> int:
    """Demo labs were just created by `flask demo-data`; the nightly job checks a lab only from the
    first whole day after it existed, so the demo labs are dated back before the simulated period."""
    L = Lab.__table__
    ids = list(lab_ids)
    if not ids:
        return 0
    return db.session.execute(
        update(L).where(L.c.id.in_(ids), L.c.created_at > when).values(created_at=when)
        .execution_options(preserve_rowcount=True)
    ).rowcount or 0

"""dated lab activity (lab_active_periods), the deadline each ticket event left (ticket_events.to_deadline),
and the summary's inspection indexes with received_at

A month's summary is computed as of the month's end: which labs were active then, and which deadline
and level each ticket had then (art. 30 keeps the events for exactly this). Before this revision a lab
had only a current ``active`` flag and events did not record deadlines; the backfill below dates what
the existing rows allow.

Labs:
- an active lab: one period since its creation (start_at NULL means "since created_at"), still open;
- an inactive lab: nobody recorded when it was deactivated. It is taken to have been active from its
  creation until its last recorded activity (latest inspection received, ticket opened, or missed
  check flagged: each shows the lab was in use then); a lab with no activity at all gets no period
  (it never counts in a month's figures). This errs towards not inventing open days (which would
  lower past compliance) while keeping every month in which the lab demonstrably worked.

Ticket events (to_deadline = the ticket's deadline after the event):
- the event that set a ticket's current level (its latest level change, or its creation if it never
  changed level) gets the ticket's deadline: exact, since only a level change moves a deadline;
- earlier level-setting events of escalated tickets get the deadline the rules gave then, from the
  settings in force at upgrade time (TICKET_DEADLINE_DAYS): creation -> created + days(severity, lab);
  a nightly escalation (its note names the day) -> end of that school day + days(severity, new
  level); any other escalation -> its time + days(severity, new level);
- other events (state changes) are left NULL: readers take the latest event before a moment that
  has a deadline, so they need none.

Revision ID: 0006
Revises: 0004
"""
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULT_DEADLINE_DAYS = {
    ("general", "lab"): 7, ("general", "college"): 5, ("general", "school"): 3,
    ("major", "lab"): 2, ("major", "college"): 2, ("major", "school"): 1,
}
NIGHTLY_NOTE = re.compile(r"as of the end of (\d{4}-\d{2}-\d{2})")


def _settings():
    try:
        from flask import current_app

        return (dict(current_app.config.get("TICKET_DEADLINE_DAYS") or DEFAULT_DEADLINE_DAYS),
                current_app.config.get("SCHOOL_TIMEZONE") or "Asia/Shanghai")
    except RuntimeError:  # no app context (plain alembic)
        return DEFAULT_DEADLINE_DAYS, "Asia/Shanghai"


def upgrade():
    op.create_table(
        "lab_active_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lab_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=True),
        sa.Column("end_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["lab_id"], ["labs.id"], name=op.f("fk_lab_active_periods_lab_id_labs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_active_periods")),
    )
    op.create_index(op.f("ix_lab_active_periods_lab_id"), "lab_active_periods", ["lab_id"], unique=False)
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.add_column(sa.Column("to_deadline", sa.DateTime(), nullable=True))
    # The summary counts inspections by when they reached the server too (the late-sync bound):
    # its covering index gains received_at, and missed-check flags look a lab's day up by lab.
    op.drop_index("ix_inspections_finished_level_lab", table_name="inspections")
    op.create_index("ix_inspections_finished_level_lab_received", "inspections",
                    ["finished_at", "level", "lab_id", "received_at"], unique=False)
    op.create_index("ix_inspections_lab_level_finished", "inspections",
                    ["lab_id", "level", "finished_at", "received_at"], unique=False)
    _backfill_periods()
    _backfill_event_deadlines()


def _backfill_periods():
    conn = op.get_bind()
    labs = sa.table("labs", sa.column("id"), sa.column("active"))
    periods = sa.table("lab_active_periods", sa.column("lab_id", sa.Integer), sa.column("start_at", sa.DateTime),
                       sa.column("end_at", sa.DateTime))
    conn.execute(periods.insert().from_select(
        ["lab_id", "start_at", "end_at"],
        sa.select(labs.c.id, sa.null(), sa.null()).where(labs.c.active == sa.true()),
    ))
    inactive = [r[0] for r in conn.execute(sa.select(labs.c.id).where(labs.c.active == sa.false()))]
    if not inactive:
        return
    last: dict[int, datetime] = {}
    for table, column in (("inspections", "received_at"), ("rectification_tickets", "created_at"),
                          ("missed_daily_checks", "flagged_at")):
        t = sa.table(table, sa.column("lab_id", sa.Integer), sa.column(column, sa.DateTime))
        for lab_id, when in conn.execute(
            sa.select(t.c.lab_id, sa.func.max(t.c[column])).where(t.c.lab_id.in_(inactive)).group_by(t.c.lab_id)
        ):
            if when is not None and (lab_id not in last or when > last[lab_id]):
                last[lab_id] = when
    rows = [{"lab_id": lab_id, "start_at": None, "end_at": when + timedelta(seconds=1)}
            for lab_id, when in sorted(last.items())]
    if rows:
        conn.execute(periods.insert(), rows)


def _backfill_event_deadlines():
    conn = op.get_bind()
    days, tz = _settings()
    tickets = sa.table("rectification_tickets", sa.column("id", sa.Integer), sa.column("severity", sa.String),
                       sa.column("deadline", sa.DateTime))
    events = sa.table("ticket_events", sa.column("id", sa.Integer), sa.column("ticket_id", sa.Integer),
                      sa.column("actor_id", sa.Integer), sa.column("kind", sa.String),
                      sa.column("from_level", sa.String), sa.column("to_level", sa.String),
                      sa.column("note", sa.Text), sa.column("created_at", sa.DateTime),
                      sa.column("to_deadline", sa.DateTime))
    level_setting = sa.or_(events.c.kind == "created",
                           sa.and_(events.c.from_level.is_not(None), events.c.to_level.is_not(None),
                                   events.c.from_level != events.c.to_level))
    rows = conn.execute(
        sa.select(events.c.id, events.c.ticket_id, events.c.actor_id, events.c.kind, events.c.to_level,
                  events.c.note, events.c.created_at, tickets.c.severity, tickets.c.deadline)
        .join(tickets, tickets.c.id == events.c.ticket_id)
        .where(level_setting)
        .order_by(events.c.ticket_id, events.c.created_at, events.c.id)
    ).all()
    by_ticket: dict[int, list] = {}
    for r in rows:
        by_ticket.setdefault(r.ticket_id, []).append(r)
    updates = []
    for ticket_events in by_ticket.values():
        *earlier, current = ticket_events
        updates.append({"_id": current.id, "_d": current.deadline})
        for ev in earlier:
            level = "lab" if ev.kind == "created" else (ev.to_level or "lab")
            n = days.get((str(ev.severity), level))
            if n is None:
                continue
            start = ev.created_at
            m = NIGHTLY_NOTE.search(ev.note or "") if ev.actor_id is None else None
            if m:  # the nightly job counts from the end of the day it processed
                day = datetime.strptime(m.group(1), "%Y-%m-%d").date() + timedelta(days=1)
                start = datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(
                    tzinfo=None)
            updates.append({"_id": ev.id, "_d": start + timedelta(days=n)})
    if updates:
        conn.execute(
            events.update().where(events.c.id == sa.bindparam("_id")).values(to_deadline=sa.bindparam("_d")),
            updates,
        )


def downgrade():
    op.drop_index("ix_inspections_lab_level_finished", table_name="inspections")
    op.drop_index("ix_inspections_finished_level_lab_received", table_name="inspections")
    op.create_index("ix_inspections_finished_level_lab", "inspections", ["finished_at", "level", "lab_id"],
                    unique=False)
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.drop_column("to_deadline")
    op.drop_index(op.f("ix_lab_active_periods_lab_id"), table_name="lab_active_periods")
    op.drop_table("lab_active_periods")

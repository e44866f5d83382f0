"""missed daily checks cleared by a late sync; SQLite refuses DELETE on tickets and their history

1. missed_daily_checks gains cleared_at and cleared_by_inspection_id: a daily check synced late
   (within LATE_SYNC_DAYS) clears the nightly job's flag of its day, and the flag stays on record
   as cleared (art. 29, 30).
2. On SQLite, the row triggers 0003 installs on PostgreSQL: DELETE on rectification_tickets,
   ticket_events and ticket_event_photos is refused by the database itself (art. 30), whatever
   the client. The same DDL is attached to create_all (app/tickets/guards.py).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TICKET_TABLES = ("rectification_tickets", "ticket_events", "ticket_event_photos")
FK = "fk_missed_daily_checks_cleared_by_inspection_id_inspections"


def upgrade():
    with op.batch_alter_table("missed_daily_checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cleared_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("cleared_by_inspection_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(FK, "inspections", ["cleared_by_inspection_id"], ["id"])

    if op.get_bind().dialect.name == "sqlite":
        for table in TICKET_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for table in TICKET_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")

    with op.batch_alter_table("missed_daily_checks", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.drop_column("cleared_by_inspection_id")
        batch_op.drop_column("cleared_at")

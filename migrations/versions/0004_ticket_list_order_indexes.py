"""ticket list order: open tickets by (deadline, id), all by (state, deadline, id)

The ticket list orders by (closed last, deadline, id). app/tickets/listing.py reads it in two
parts, open tickets then closed ones, each walking one of these indexes instead of sorting every
ticket in the user's scope (tickets are never deleted, art. 30, so that sort only grew). The
open one is partial (WHERE state != 'closed'), which SQLite and PostgreSQL both support.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN_INDEX = "ix_rectification_tickets_open_deadline_id"
STATE_INDEX = "ix_rectification_tickets_state_deadline_id"
OPEN = "state != 'closed'"


def upgrade():
    op.create_index(OPEN_INDEX, "rectification_tickets", ["deadline", "id"], unique=False,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index(STATE_INDEX, "rectification_tickets", ["state", "deadline", "id"], unique=False)


def downgrade():
    op.drop_index(STATE_INDEX, table_name="rectification_tickets")
    op.drop_index(OPEN_INDEX, table_name="rectification_tickets")

"""reader's language: tickets keep their item's English text, events and notices their facts

What a reader sees is rendered in the reader's language when it is read, from stored facts:
- rectification_tickets.title_en: the checklist item's English text beside the Chinese title
  (filled here for existing tickets opened from a checklist item);
- ticket_events.note_key / note_params: a note the system wrote (an escalation by the nightly
  job, a major hazard sent to the college at once, art. 29) as a message key and its facts;
  existing rows keep their stored note;
- notifications.params: the facts of a notice's title (the day of a missed check...); a notice
  without params (every existing one) shows its stored title.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# JSONB on PostgreSQL (json has no equality operator: the nightly job selects DISTINCT rows with it).
FACTS = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    with op.batch_alter_table("rectification_tickets") as batch:
        batch.add_column(sa.Column("title_en", sa.Text(), nullable=True))
    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("note_key", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("note_params", FACTS, nullable=True))
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("params", FACTS, nullable=True))
    # Tickets opened from a checklist item: the item's English text (items never change, a new
    # checklist version has new items).
    op.execute(
        "UPDATE rectification_tickets SET title_en = (SELECT checklist_items.text_en FROM checklist_items "
        "WHERE checklist_items.id = rectification_tickets.item_id) WHERE item_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("params")
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_column("note_params")
        batch.drop_column("note_key")
    with op.batch_alter_table("rectification_tickets") as batch:
        batch.drop_column("title_en")

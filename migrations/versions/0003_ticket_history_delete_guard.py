"""PostgreSQL: refuse DELETE on tickets and their history (art. 30)

The same guard the models attach to create_all (app/tickets/guards.py), for databases built by
migrations. SQLite relies on the ORM guard.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("rectification_tickets", "ticket_events", "ticket_event_photos")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'rows of % are never deleted (art. 30)', TG_TABLE_NAME;
        END; $$ LANGUAGE plpgsql
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
    op.execute("DROP FUNCTION IF EXISTS labsafe_refuse_delete()")

"""ticket signatures: the reply slip (整改回执) signed when the fix is submitted and when it is verified, or refused
with a reason; never changed or deleted (issue 23; art. 28, 30)

Row triggers refuse UPDATE and DELETE on SQLite and PostgreSQL alike, as app.db.kept installs with
create_all (labsafe_refuse_change() is 0015's function; created again here so this file stands alone).

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLE = "ticket_signatures"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("ticket_events.id"), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("rectification_tickets.id"), nullable=False),
        sa.Column("role", sa.Enum("rectifier", "verifier", name="ticketsignaturerole", native_enum=False,
                                  length=9), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=True),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.UniqueConstraint("event_id", name="uq_ticket_signatures_event_id"),
    )
    op.create_index("ix_ticket_signatures_ticket_id", TABLE, ["ticket_id"])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_change() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never changed or deleted (art. 30)', TG_TABLE_NAME; END; "
            "$$ LANGUAGE plpgsql"
        )
    for op_name in ("UPDATE", "DELETE"):
        trigger = f"{TABLE}_no_{op_name.lower()}"
        if postgres:
            op.execute(f"CREATE TRIGGER {trigger} BEFORE {op_name} ON {TABLE} "
                       "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_change()")
        else:
            op.execute(f"CREATE TRIGGER {trigger} BEFORE {op_name} ON {TABLE} "
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {TABLE} are never changed or deleted (art. 30)'); END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for op_name in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op_name}" + (f" ON {TABLE}" if postgres else ""))
    op.drop_index("ix_ticket_signatures_ticket_id", table_name=TABLE)
    op.drop_table(TABLE)

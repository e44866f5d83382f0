"""lab access roster (准入, art. 12-13): people per lab, the lab's training flag, history, findings (issue 24)

Entries, their history and the findings are kept (art. 30): row triggers refuse DELETE on SQLite and
PostgreSQL alike, as app.db.kept installs with create_all (labsafe_refuse_delete() is created again
here so this file stands alone).

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KEPT = ("roster_entries", "roster_events", "roster_findings")


def upgrade():
    op.create_table(
        "roster_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("staff_no", sa.String(32), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("exam_date", sa.Date(), nullable=True),
        sa.Column("exam_score", sa.Integer(), nullable=True),
        sa.Column("exam_passed", sa.Boolean(), nullable=False),
        sa.Column("training_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_roster_entries_lab_id", "roster_entries", ["lab_id"])
    op.create_index("ix_roster_entries_lab_id_staff_no", "roster_entries", ["lab_id", "staff_no"])
    op.create_index("ix_roster_entries_valid_until", "roster_entries", ["valid_until"])
    op.create_table(
        "roster_lab_settings",
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), primary_key=True),
        sa.Column("training_required", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_table(
        "roster_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("roster_entries.id"), nullable=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_roster_events_lab_id", "roster_events", ["lab_id"])
    op.create_index("ix_roster_events_entry_id", "roster_events", ["entry_id"])
    op.create_table(
        "roster_findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_uuid", sa.String(36), nullable=False),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("roster_entries.id"), nullable=True),
        sa.Column("person_name", sa.String(100), nullable=False),
        sa.Column("staff_no", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("rectification_tickets.id"), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("client_uuid", name="uq_roster_findings_client_uuid"),
    )
    op.create_index("ix_roster_findings_lab_id", "roster_findings", ["lab_id"])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
    for table in KEPT:
        if postgres:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()")
        else:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in KEPT:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete" + (f" ON {table}" if postgres else ""))
    op.drop_index("ix_roster_findings_lab_id", table_name="roster_findings")
    op.drop_table("roster_findings")
    op.drop_index("ix_roster_events_entry_id", table_name="roster_events")
    op.drop_index("ix_roster_events_lab_id", table_name="roster_events")
    op.drop_table("roster_events")
    op.drop_table("roster_lab_settings")
    op.drop_index("ix_roster_entries_valid_until", table_name="roster_entries")
    op.drop_index("ix_roster_entries_lab_id_staff_no", table_name="roster_entries")
    op.drop_index("ix_roster_entries_lab_id", table_name="roster_entries")
    op.drop_table("roster_entries")

"""hazard reports from the door QR: reports, their photos and events, never deleted (issue 24; art. 30)

Row triggers refuse DELETE on SQLite and PostgreSQL alike, as app.db.kept installs with create_all
(labsafe_refuse_delete() is 0016's function; created again here so this file stands alone).

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLES = ("hazard_reports", "hazard_report_photos", "hazard_report_events")


def upgrade():
    op.create_table(
        "hazard_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id", name="fk_hazard_reports_lab_id_labs"),
                  nullable=False),
        sa.Column("reporter_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_hazard_reports_reporter_id_users"), nullable=True),
        sa.Column("receipt_hash", sa.String(64), nullable=True),
        sa.Column("client_uuid", sa.String(36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.Enum("open", "ticketed", "closed", name="reportstate", native_enum=False,
                                   create_constraint=False, length=8), nullable=False),
        sa.Column("ticket_id", sa.Integer(),
                  sa.ForeignKey("rectification_tickets.id", name="fk_hazard_reports_ticket_id_rectification_tickets"),
                  nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.Column("handled_by_id", sa.Integer(),
                  sa.ForeignKey("users.id", name="fk_hazard_reports_handled_by_id_users"), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("receipt_hash", name="uq_hazard_reports_receipt_hash"),
        sa.UniqueConstraint("client_uuid", name="uq_hazard_reports_client_uuid"),
        sa.UniqueConstraint("ticket_id", name="uq_hazard_reports_ticket_id"),
    )
    for column in ("lab_id", "reporter_id", "state", "created_at"):
        op.create_index(f"ix_hazard_reports_{column}", "hazard_reports", [column])
    op.create_table(
        "hazard_report_photos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(),
                  sa.ForeignKey("hazard_reports.id", name="fk_hazard_report_photos_report_id_hazard_reports"),
                  nullable=False),
        sa.Column("photo_uuid", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("report_id", "photo_uuid", name="uq_hazard_report_photos_report_id_photo_uuid"),
    )
    op.create_index("ix_hazard_report_photos_report_id", "hazard_report_photos", ["report_id"])
    op.create_index("ix_hazard_report_photos_photo_uuid", "hazard_report_photos", ["photo_uuid"])
    op.create_table(
        "hazard_report_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(),
                  sa.ForeignKey("hazard_reports.id", name="fk_hazard_report_events_report_id_hazard_reports"),
                  nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_hazard_report_events_by_id_users"),
                  nullable=True),
        sa.Column("what", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_hazard_report_events_report_id", "hazard_report_events", ["report_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()")
    else:
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete" + (f" ON {table}" if postgres else ""))
    op.drop_table("hazard_report_events")
    op.drop_table("hazard_report_photos")
    op.drop_table("hazard_reports")

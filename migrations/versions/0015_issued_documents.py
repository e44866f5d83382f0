"""issued documents: PDFs filed once, never changed or deleted (issue 23; art. 28-30)

The table, and row triggers refusing UPDATE and DELETE on SQLite and PostgreSQL: the same DDL
app/documents/guards.py attaches to create_all. outbox_emails gains attachment_document_id (a plain id,
no foreign key: notifications know nothing of documents; plain ADD COLUMN, no table rebuilt).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "issued_documents"
KIND = sa.Enum("inspection_report", "rectification_notice", "written_report", "monthly_summary",
               name="documentkind", native_enum=False, length=20)


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("issue_key", sa.String(120), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=True),
        sa.Column("inspection_id", sa.Integer(), sa.ForeignKey("inspections.id"), nullable=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("rectification_tickets.id"), nullable=True),
        sa.Column("college_id", sa.Integer(), sa.ForeignKey("colleges.id"), nullable=True),
        sa.Column("month", sa.Date(), nullable=True),
        sa.Column("replaces_id", sa.Integer(), sa.ForeignKey("issued_documents.id"), nullable=True),
        sa.Column("issued_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("number", name="uq_issued_documents_number"),
        sa.UniqueConstraint("issue_key", name="uq_issued_documents_issue_key"),
        sa.UniqueConstraint("replaces_id", name="uq_issued_documents_replaces_id"),
    )
    op.create_index("ix_issued_documents_kind", TABLE, ["kind"])
    op.create_index("ix_issued_documents_lab_id", TABLE, ["lab_id"])
    op.create_index("ix_issued_documents_inspection_id", TABLE, ["inspection_id"])
    op.create_index("ix_issued_documents_ticket_id", TABLE, ["ticket_id"])

    op.add_column("outbox_emails", sa.Column("attachment_document_id", sa.Integer(), nullable=True))

    dialect = op.get_bind().dialect.name
    for op_name in ("UPDATE", "DELETE"):
        trigger = f"{TABLE}_no_{op_name.lower()}"
        if dialect == "sqlite":
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {op_name} ON {TABLE} "
                "BEGIN SELECT RAISE(ABORT, 'issued documents are never changed or deleted (art. 30)'); END"
            )
        elif dialect == "postgresql":
            if op_name == "UPDATE":
                op.execute(
                    """
                    CREATE OR REPLACE FUNCTION labsafe_refuse_change() RETURNS trigger AS $$
                    BEGIN
                      RAISE EXCEPTION 'rows of % are never changed or deleted (art. 30)', TG_TABLE_NAME;
                    END; $$ LANGUAGE plpgsql
                    """
                )
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {op_name} ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_change()"
            )


def downgrade():
    dialect = op.get_bind().dialect.name
    for op_name in ("update", "delete"):
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op_name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op_name} ON {TABLE}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS labsafe_refuse_change()")
    op.drop_table(TABLE)
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("attachment_document_id")

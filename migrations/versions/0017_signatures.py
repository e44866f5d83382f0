"""inspection signatures: drawn on the phone or refused with a reason, never changed or deleted (issue 23; art. 30)

Row triggers refuse UPDATE and DELETE on SQLite and PostgreSQL alike, as app.db.kept installs with
create_all (labsafe_refuse_change() is 0015's function; created again here so this file stands alone).

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLE = "inspection_signatures"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("inspection_id", sa.Integer(), sa.ForeignKey("inspections.id"), nullable=False),
        sa.Column("role", sa.Enum("inspector", "lab_representative", name="signaturerole", native_enum=False,
                                  length=18), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=True),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.UniqueConstraint("inspection_id", "role", name="uq_inspection_signatures_inspection_id_role"),
    )
    op.create_index("ix_inspection_signatures_inspection_id", TABLE, ["inspection_id"])
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
    op.drop_index("ix_inspection_signatures_inspection_id", table_name=TABLE)
    op.drop_table(TABLE)

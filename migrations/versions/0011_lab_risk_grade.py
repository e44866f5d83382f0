"""labs: risk grade I-IV (MOE 2024 measures, 教科信〔2024〕4号) and the assessments' history

Five nullable columns on labs (plain ADD COLUMN on SQLite: no table rebuilt, no trigger lost), an
index on labs.risk_level (the lab list filters by it), and lab_risk_assessments, append-only: a row
trigger refuses DELETE on SQLite and PostgreSQL alike (art. 30), as models.LabRiskAssessment installs
with create_all.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "lab_risk_assessments"
LEVEL = sa.Enum("I", "II", "III", "IV", name="risklevel", native_enum=False, create_constraint=False, length=3)
CATEGORY = sa.Enum("chemistry", "biology", "physics", "mechanical", "general", name="labcategory",
                   native_enum=False, create_constraint=False, length=10)


def upgrade():
    op.add_column("labs", sa.Column("risk_level", LEVEL, nullable=True))
    op.add_column("labs", sa.Column("risk_assessed_at", sa.DateTime(), nullable=True))
    op.add_column("labs", sa.Column("risk_assessed_by_id", sa.Integer(), nullable=True))
    op.add_column("labs", sa.Column("risk_answers", sa.JSON(), nullable=True))
    op.add_column("labs", sa.Column("risk_reassess", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_labs_risk_level", "labs", ["risk_level"])
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("risk_level", LEVEL, nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=True),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("category", CATEGORY, nullable=False),
        sa.Column("hazard_tags", sa.JSON(), nullable=False),
        sa.Column("rules_hash", sa.String(64), nullable=False),
        sa.Column("assessed_at", sa.DateTime(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("client_uuid", sa.String(36), nullable=True),
        sa.UniqueConstraint("client_uuid", name=f"uq_{TABLE}_client_uuid"),
    )
    op.create_index(f"ix_{TABLE}_lab_id", TABLE, ["lab_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        op.execute(f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
                   "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()")
    else:
        op.execute(f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
                   f"BEGIN SELECT RAISE(ABORT, 'rows of {TABLE} are never deleted (art. 30)'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete ON {TABLE}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
    op.drop_index(f"ix_{TABLE}_lab_id", table_name=TABLE)
    op.drop_table(TABLE)
    op.drop_index("ix_labs_risk_level", table_name="labs")
    with op.batch_alter_table("labs") as batch:
        for name in ("risk_reassess", "risk_answers", "risk_assessed_by_id", "risk_assessed_at", "risk_level"):
            batch.drop_column(name)

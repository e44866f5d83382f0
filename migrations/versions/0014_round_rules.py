"""rounds: recurring round rules and their changes; a generated round names its rule and period (issue 22)

Plain ADD COLUMN on inspection_rounds (no table rebuilt on SQLite, so no row trigger is lost); the
(rule, period, part) unique index makes generating a period idempotent. Rules and their changes are
kept for ever: a row trigger refuses DELETE (as app.db.kept installs with create_all, written out here).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KIND = sa.Enum("school_wide", "college_monthly", "special", name="roundkind", native_enum=False, length=15)
KEPT = ("round_rules", "round_rule_changes")
RECURRENCE = sa.Enum("monthly", "semester", "by_risk", name="recurrence", native_enum=False, length=8)


def upgrade():
    op.create_table(
        "round_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("owner_college_id", sa.Integer(), sa.ForeignKey("colleges.id"), nullable=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), nullable=True),
        sa.Column("checklist_key", sa.String(64), nullable=True),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("inspector_ids", sa.JSON(), nullable=False),
        sa.Column("recurrence", RECURRENCE, nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_round_rules_owner_college_id", "round_rules", ["owner_college_id"])
    op.create_table(
        "round_rule_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rule_id", sa.Integer(), sa.ForeignKey("round_rules.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("what", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_round_rule_changes_rule_id", "round_rule_changes", ["rule_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES clause in place (alembic would rebuild the table).
        op.execute("ALTER TABLE inspection_rounds ADD COLUMN rule_id INTEGER REFERENCES round_rules (id)")
    else:
        op.add_column("inspection_rounds", sa.Column("rule_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_inspection_rounds_rule_id_round_rules", "inspection_rounds", "round_rules",
                              ["rule_id"], ["id"])
    op.add_column("inspection_rounds", sa.Column("period_start", sa.Date(), nullable=True))
    op.add_column("inspection_rounds", sa.Column("rule_part", sa.String(80), nullable=True))
    op.create_index("ux_inspection_rounds_rule_period", "inspection_rounds", ["rule_id", "period_start", "rule_part"],
                    unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION labsafe_refuse_delete() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'rows of % are never deleted (art. 30)', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        for table in KEPT:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION labsafe_refuse_delete()")
    else:
        for table in KEPT:
            op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in KEPT:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete" + (f" ON {table}" if postgres else ""))
    op.drop_index("ux_inspection_rounds_rule_period", "inspection_rounds")
    if op.get_bind().dialect.name != "sqlite":  # SQLite's is unnamed: it goes with its column
        op.drop_constraint("fk_inspection_rounds_rule_id_round_rules", "inspection_rounds", type_="foreignkey")
    with op.batch_alter_table("inspection_rounds") as batch:
        batch.drop_column("rule_part")
        batch.drop_column("period_start")
        batch.drop_column("rule_id")
    op.drop_table("round_rule_changes")
    op.drop_table("round_rules")

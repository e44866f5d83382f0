"""rounds: inspection rounds, their labs and inspectors, their changes and late flags (issue 22)

Inspections get a plain ``round_id`` (no foreign key: inspections know nothing of rounds; plain ADD
COLUMN, so no table is rebuilt on SQLite and no row trigger is lost).

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KIND = sa.Enum("school_wide", "college_monthly", "special", name="roundkind", native_enum=False, length=15)


def upgrade():
    op.create_table(
        "inspection_rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("checklist_key", sa.String(64), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=False),
        sa.Column("window_to", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("owner_college_id", sa.Integer(), sa.ForeignKey("colleges.id"), nullable=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("unannounced", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("draw_n", sa.Integer(), nullable=True),
        sa.Column("population", sa.JSON(), nullable=True),
        sa.Column("selection", sa.JSON(), nullable=False),
    )
    op.create_index("ix_inspection_rounds_starts_at", "inspection_rounds", ["starts_at"])
    op.create_index("ix_inspection_rounds_ends_at", "inspection_rounds", ["ends_at"])
    op.create_index("ix_inspection_rounds_owner_college_id", "inspection_rounds", ["owner_college_id"])
    op.create_table(
        "round_labs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("inspection_rounds.id"), nullable=False),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("inspector_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("round_id", "lab_id"),
    )
    op.create_index("ix_round_labs_round_id_inspector_id", "round_labs", ["round_id", "inspector_id"])
    op.create_index("ix_round_labs_lab_id", "round_labs", ["lab_id"])
    op.create_index("ix_round_labs_inspector_id", "round_labs", ["inspector_id"])
    op.create_table(
        "round_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("inspection_rounds.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("what", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_round_changes_round_id", "round_changes", ["round_id"])
    op.create_table(
        "round_late_flags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("inspection_rounds.id"), nullable=False),
        sa.Column("lab_id", sa.Integer(), sa.ForeignKey("labs.id"), nullable=False),
        sa.Column("flagged_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("round_id", "lab_id"),
    )
    op.create_index("ix_round_late_flags_round_id", "round_late_flags", ["round_id"])
    op.add_column("inspections", sa.Column("round_id", sa.Integer(), nullable=True))
    op.create_index("ix_inspections_round_id", "inspections", ["round_id"])


def downgrade():
    op.drop_index("ix_inspections_round_id", "inspections")
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("round_id")
    for table in ("round_late_flags", "round_changes", "round_labs", "inspection_rounds"):
        op.drop_table(table)

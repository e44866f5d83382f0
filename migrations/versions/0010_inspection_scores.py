"""inspections: scores and grades; checklist items: weight, red line (must_pass), stars (issue 22)

Checklist items gain their scoring settings (per version: an old inspection is scored by the
version it answered); inspections gain the score (0-100, null when nothing was scorable) and the
grade (A-D) computed at submit from that version. Inspections stored before this revision have
no score until `flask inspections rescore` gives them one. Plain ADD COLUMN (no table is rebuilt
on SQLite, so no row trigger is lost).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ITEM_COLUMNS = (
    sa.Column("weight", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("must_pass", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("stars", sa.Integer(), nullable=True),
)
INSPECTION_COLUMNS = (
    sa.Column("score", sa.Float(), nullable=True),
    sa.Column("grade", sa.String(1), nullable=True),
)


def upgrade():
    for column in ITEM_COLUMNS:
        op.add_column("checklist_items", column)
    for column in INSPECTION_COLUMNS:
        op.add_column("inspections", column)


def downgrade():
    with op.batch_alter_table("inspections") as batch:
        for column in reversed(INSPECTION_COLUMNS):
            batch.drop_column(column.name)
    with op.batch_alter_table("checklist_items") as batch:
        for column in reversed(ITEM_COLUMNS):
            batch.drop_column(column.name)

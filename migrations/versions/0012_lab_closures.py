"""lab closures in bulk (issue 22): who closed a lab, when, in which bulk closure, and reopening early
recorded (lab_closures gains columns, lab_closure_batches); daily-check designees (art. 29)

Existing closures keep their dates; their new columns stay NULL (who added them was not recorded).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lab_closure_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("scope_value", sa.String(length=200), nullable=False),
        sa.Column("college_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("lab_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reopened_on", sa.Date(), nullable=True),
        sa.Column("reopened_at", sa.DateTime(), nullable=True),
        sa.Column("reopened_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["college_id"], ["colleges.id"],
                                name=op.f("fk_lab_closure_batches_college_id_colleges")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_lab_closure_batches_created_by_id_users")),
        sa.ForeignKeyConstraint(["reopened_by_id"], ["users.id"],
                                name=op.f("fk_lab_closure_batches_reopened_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_closure_batches")),
    )
    op.create_index(op.f("ix_lab_closure_batches_college_id"), "lab_closure_batches", ["college_id"], unique=False)
    with op.batch_alter_table("lab_closures") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("planned_end_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reopened_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reopened_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_lab_closures_batch_id_lab_closure_batches"), "lab_closure_batches",
                                 ["batch_id"], ["id"])
        batch.create_foreign_key(batch.f("fk_lab_closures_created_by_id_users"), "users", ["created_by_id"], ["id"])
        batch.create_foreign_key(batch.f("fk_lab_closures_reopened_by_id_users"), "users", ["reopened_by_id"], ["id"])
        batch.create_index(batch.f("ix_lab_closures_batch_id"), ["batch_id"], unique=False)
    op.create_table(
        "daily_check_designees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lab_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("named_at", sa.DateTime(), nullable=False),
        sa.Column("named_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lab_id"], ["labs.id"], name=op.f("fk_daily_check_designees_lab_id_labs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_daily_check_designees_user_id_users")),
        sa.ForeignKeyConstraint(["named_by_id"], ["users.id"], name=op.f("fk_daily_check_designees_named_by_id_users")),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["users.id"],
                                name=op.f("fk_daily_check_designees_revoked_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_check_designees")),
    )
    op.create_index(op.f("ix_daily_check_designees_lab_id"), "daily_check_designees", ["lab_id"], unique=False)
    op.create_index(op.f("ix_daily_check_designees_user_id"), "daily_check_designees", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_daily_check_designees_user_id"), table_name="daily_check_designees")
    op.drop_index(op.f("ix_daily_check_designees_lab_id"), table_name="daily_check_designees")
    op.drop_table("daily_check_designees")
    with op.batch_alter_table("lab_closures") as batch:
        batch.drop_index(batch.f("ix_lab_closures_batch_id"))
        batch.drop_constraint(batch.f("fk_lab_closures_reopened_by_id_users"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_lab_closures_created_by_id_users"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_lab_closures_batch_id_lab_closure_batches"), type_="foreignkey")
        for name in ("reopened_by_id", "reopened_at", "planned_end_date", "created_by_id", "created_at", "batch_id"):
            batch.drop_column(name)
    op.drop_index(op.f("ix_lab_closure_batches_college_id"), table_name="lab_closure_batches")
    op.drop_table("lab_closure_batches")

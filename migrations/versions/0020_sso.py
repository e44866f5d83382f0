"""campus single sign-on: users.staff_no (工号) and the SSO sessions (issue 25)

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("staff_no", sa.String(64), nullable=True))
    op.create_index("ix_users_staff_no", "users", ["staff_no"], unique=True)
    op.create_table(
        "sso_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(8), nullable=False),
        sa.Column("ticket_hash", sa.String(64), nullable=False),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sso_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_sessions")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_sso_sessions_ticket_hash")),
    )
    op.create_index("ix_sso_sessions_user_id", "sso_sessions", ["user_id"])


def downgrade():
    op.drop_index("ix_sso_sessions_user_id", table_name="sso_sessions")
    op.drop_table("sso_sessions")
    op.drop_index("ix_users_staff_no", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("staff_no")

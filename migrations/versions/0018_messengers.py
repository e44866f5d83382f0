"""messengers (issue 25): mail retries with backoff, WeCom and DingTalk outbox, users' messenger ids and channels

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("wecom_userid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("dingtalk_userid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("notify_channels", sa.String(64), nullable=True))
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notifications.id"), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("to_userid", sa.String(64), nullable=False),
        sa.Column("college_id", sa.Integer(), sa.ForeignKey("colleges.id"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_messages_notification_id", "outbox_messages", ["notification_id"])
    op.create_index("ix_outbox_messages_waiting", "outbox_messages", ["sent_at", "channel"])
    op.create_table(
        "college_robots",
        sa.Column("college_id", sa.Integer(), sa.ForeignKey("colleges.id"), primary_key=True),
        sa.Column("wecom_key", sa.String(200), nullable=True),
        sa.Column("dingtalk_token", sa.String(200), nullable=True),
        sa.Column("dingtalk_secret", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "messenger_tokens",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("access_token", sa.String(512), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("messenger_tokens")
    op.drop_table("college_robots")
    op.drop_index("ix_outbox_messages_waiting", "outbox_messages")
    op.drop_index("ix_outbox_messages_notification_id", "outbox_messages")
    op.drop_table("outbox_messages")
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("next_attempt_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notify_channels")
        batch.drop_column("dingtalk_userid")
        batch.drop_column("wecom_userid")

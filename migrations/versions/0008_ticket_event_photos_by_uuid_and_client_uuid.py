"""ticket events: photos by UUID (evidence may arrive after the report), idempotent actions

1. ticket_event_photos refers to its photo by UUID (photo_uuid, with position), as answer_photos
   does: a fix recorded offline is sent before its after-photos, which are found by UUID when they
   arrive. Existing rows get their photo's UUID; photo_id (the FK to photos) is dropped.
2. ticket_events.client_uuid (unique, nullable): the UUID the phone made once for an action; a
   replay of the same action finds it and changes nothing.

On SQLite a table rebuilt by batch mode (the photo table; ticket_events too on downgrade) loses its
row trigger refusing DELETE (art. 30, migration 0005): it is installed again here.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PHOTOS = "ticket_event_photos"
FK = "fk_ticket_event_photos_photo_id_photos"


def _sqlite_guard(*tables):
    """Install again the row triggers a rebuilt table lost (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in tables:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are never deleted (art. 30)'); END"
        )


def upgrade():
    with op.batch_alter_table(PHOTOS) as batch:
        batch.add_column(sa.Column("photo_uuid", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("position", sa.Integer(), nullable=True))
    # Each row: its photo's UUID, and its place among its event's photos (they were read by id).
    op.execute(
        f"UPDATE {PHOTOS} SET photo_uuid = (SELECT photos.uuid FROM photos WHERE photos.id = {PHOTOS}.photo_id), "
        f"position = (SELECT count(*) FROM {PHOTOS} AS earlier "
        f"WHERE earlier.event_id = {PHOTOS}.event_id AND earlier.id < {PHOTOS}.id)"
    )
    with op.batch_alter_table(PHOTOS) as batch:
        batch.alter_column("photo_uuid", existing_type=sa.String(length=36), nullable=False)
        batch.alter_column("position", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint(FK, type_="foreignkey")
        batch.drop_column("photo_id")
        batch.create_index("ix_ticket_event_photos_photo_uuid", ["photo_uuid"], unique=False)
        batch.create_unique_constraint("uq_ticket_event_photos_event_id_photo_uuid", ["event_id", "photo_uuid"])
    _sqlite_guard(PHOTOS)

    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("client_uuid", sa.String(length=36), nullable=True))
        batch.create_index("ix_ticket_events_client_uuid", ["client_uuid"], unique=True)


def downgrade():
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_index("ix_ticket_events_client_uuid")
        batch.drop_column("client_uuid")

    with op.batch_alter_table(PHOTOS) as batch:
        batch.add_column(sa.Column("photo_id", sa.Integer(), nullable=True))
    op.execute(f"UPDATE {PHOTOS} SET photo_id = (SELECT photos.id FROM photos WHERE photos.uuid = {PHOTOS}.photo_uuid)")
    # A photo still on its way has no id to refer to: NOT NULL below refuses the downgrade then.
    with op.batch_alter_table(PHOTOS) as batch:
        batch.drop_constraint("uq_ticket_event_photos_event_id_photo_uuid", type_="unique")
        batch.drop_index("ix_ticket_event_photos_photo_uuid")
        batch.alter_column("photo_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(FK, "photos", ["photo_id"], ["id"])
        batch.drop_column("position")
        batch.drop_column("photo_uuid")
    _sqlite_guard(PHOTOS, "ticket_events")

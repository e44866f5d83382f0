"""photos: the camera's own file beside the downscaled photo (issue 21, PHOTO_CAMERA_ORIGINALS)

The phone sends a 2048 px photo first; when the school keeps camera originals, the camera's file
follows on Wi-Fi or when charging and is recorded on the photo's row (all nullable: most photos
never have one). No table is rebuilt on SQLite (plain ADD COLUMN), so no row trigger is lost.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (
    ("camera_original_key", sa.String(200)),
    ("camera_original_sha256", sa.String(64)),
    ("camera_original_bytes", sa.Integer()),
    ("camera_original_type", sa.String(40)),
    ("camera_original_at", sa.DateTime()),
)


def upgrade():
    for name, type_ in COLUMNS:
        op.add_column("photos", sa.Column(name, type_, nullable=True))


def downgrade():
    with op.batch_alter_table("photos") as batch:
        for name, _type in reversed(COLUMNS):
            batch.drop_column(name)

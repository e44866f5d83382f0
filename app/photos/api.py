"""Photo upload API: PUT /api/photos/<uuid> (idempotent by the client's UUID)."""
from __future__ import annotations

from datetime import UTC

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.apidoc import doc
from app.db import write_lock_at_first_write
from app.errors import InvalidInput
from app.policy import Action, authorize

from . import services
from .schemas import PHOTO_UPLOAD, PhotoSchema

bp = Blueprint("photos_api", __name__, url_prefix="/api")


def photo_body(photo) -> dict:
    body = PhotoSchema().dump(
        {
            "uuid": photo.uuid,
            "sha256": photo.sha256,
            "media_type": photo.media_type,
            "width": photo.width,
            "height": photo.height,
            "byte_size": photo.byte_size,
            "captured_at": photo.captured_at.replace(tzinfo=UTC) if photo.captured_at else None,
            "uploaded_at": photo.uploaded_at.replace(tzinfo=UTC) if photo.uploaded_at else None,
            **services.urls_for(photo.uuid),
        }
    )
    return body


@bp.put("/photos/<uuid:photo_uuid>")
# Twin uploads are settled by the unique UUID, the shared files by the store's own lock: SQLite's
# write lock is not held while the body arrives and the image is decoded (~150 ms of CPU).
@write_lock_at_first_write
@login_required
@doc(
    "Upload one photo under the client's UUID",
    multipart=PHOTO_UPLOAD,
    response=PhotoSchema,
    status=201,
    responses={
        200: "The same bytes were already stored under this UUID (a replay); nothing new was created",
        409: "Another photo was already stored under this UUID",
        413: "The upload or the image is too large (bytes or pixels)",
        415: "The file is not a JPEG, PNG, WebP or HEIC image",
    },
)
def upload(photo_uuid):
    authorize(current_user, Action.UPLOAD_PHOTO)
    upload = request.files.get("file")  # reading the form enforces MAX_CONTENT_LENGTH (413)
    if upload is None:
        raise InvalidInput(_("Send the photo as multipart/form-data in a field named “file”."))
    data = upload.read()
    stored = services.store_photo(current_user, str(photo_uuid), data, current_app.config)
    return photo_body(stored.photo), (201 if stored.created else 200)

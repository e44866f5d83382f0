"""Photo upload API: PUT /api/photos/<uuid> (idempotent by the client's UUID), and the same upload
resumable after a dropped connection: GET/PATCH /api/photos/<uuid>/upload (uploads.py); the camera's
own file of a stored photo by the same protocol: GET/PATCH /api/photos/<uuid>/camera-original/upload."""
from __future__ import annotations

from datetime import UTC

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import ClientDisconnected

from app.apidoc import doc
from app.db import write_lock_at_first_write
from app.errors import InvalidInput
from app.policy import Action, authorize

from . import services, uploads
from .schemas import PHOTO_UPLOAD, PhotoSchema, UploadStatusSchema

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
            "camera_original_url": services.camera_original_url(photo),
            "camera_original_bytes": photo.camera_original_bytes,
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


def upload_state_body(state: uploads.UploadState) -> dict:
    progress = {"offset": state.offset, "total": state.total, "complete": state.complete}
    return {**photo_body(state.stored.photo), **progress} if state.stored else progress


@bp.get("/photos/<uuid:photo_uuid>/upload")
@login_required
@doc("How much of a resumable photo upload the server has", response=UploadStatusSchema)
def upload_status(photo_uuid):
    return _status(photo_uuid, uploads.PHOTO)


def _status(photo_uuid, target: uploads.Target):
    authorize(current_user, Action.UPLOAD_PHOTO)
    return upload_state_body(uploads.upload_state(current_user, str(photo_uuid), current_app.config, target))


def _header_int(name: str) -> int:
    raw = (request.headers.get(name) or "").strip()
    if not raw.isdigit() or len(raw) > 15:
        raise InvalidInput(_("The %(header)s header must be a whole number of bytes.", header=name),
                           {"header": name})
    return int(raw)


def _body_reader(stream):
    """read(n) of the body that answers b"" when the client went away mid-body (werkzeug raises
    ClientDisconnected on a short body; the socket may raise OSError), so what arrived is kept."""
    def read(n: int) -> bytes:
        try:
            return stream.read(n)
        except (ClientDisconnected, OSError):
            return b""
    return read


@bp.patch("/photos/<uuid:photo_uuid>/upload")
@write_lock_at_first_write  # the body may take minutes: no write lock while it arrives
@login_required
@doc(
    "Send (the rest of) a photo: the raw bytes from byte Upload-Offset of an upload of "
    "Upload-Length bytes (both headers required; the body's Content-Length is its size). "
    "The server keeps every byte that arrived, even when the connection drops mid-body; "
    "GET tells where to resume. The last byte stores the photo exactly as PUT /api/photos/<uuid> does.",
    response=UploadStatusSchema,
    status=201,
    responses={
        200: "Complete: the same bytes were already stored under this UUID (a replay)",
        202: "Not complete yet: offset says how many bytes the server has",
        409: "The body starts after the server's offset (details.offset), the upload was started with "
             "another length, or another photo was already stored under this UUID",
        413: "The upload or the image is too large (bytes or pixels)",
        415: "The file is not a JPEG, PNG, WebP or HEIC image",
        429: "Too many unfinished uploads for this user",
        503: "The photo is still arriving over another connection, or the server is busy; try again",
    },
)
def upload_part(photo_uuid):
    return _part(photo_uuid, uploads.PHOTO)


def _part(photo_uuid, target: uploads.Target):
    authorize(current_user, Action.UPLOAD_PHOTO)
    offset, total = _header_int("Upload-Offset"), _header_int("Upload-Length")
    if total == 0:
        raise InvalidInput(_("The upload is empty: choose a photo to send."))
    state = uploads.receive(current_user, str(photo_uuid), offset, total, request.content_length or 0,
                            _body_reader(request.stream), current_app.config, target)
    if state.stored is None:
        return upload_state_body(state), 202
    return upload_state_body(state), (201 if state.stored.created else 200)


# ---- the camera's own file of a stored photo (PHOTO_CAMERA_ORIGINALS) ----------------------------

@bp.get("/photos/<uuid:photo_uuid>/camera-original/upload")
@login_required
@doc(
    "How much of a photo's camera original (the camera's own file) the server has",
    response=UploadStatusSchema,
    responses={
        403: "The photo was uploaded by someone else",
        404: "The photo itself has not arrived yet: send it first, then try again",
    },
)
def camera_original_status(photo_uuid):
    return _status(photo_uuid, uploads.CAMERA_ORIGINAL)


@bp.patch("/photos/<uuid:photo_uuid>/camera-original/upload")
@write_lock_at_first_write  # the body may take minutes: no write lock while it arrives
@login_required
@doc(
    "Send (the rest of) the camera's own file of a photo this user uploaded, kept byte for byte as "
    "evidence; the same resumable protocol as PATCH /api/photos/<uuid>/upload (Upload-Offset, "
    "Upload-Length). The answer is the photo's body with camera_original_url once it is stored.",
    response=UploadStatusSchema,
    status=201,
    responses={
        200: "Complete: the same bytes were already stored as this photo's camera original (a replay)",
        202: "Not complete yet: offset says how many bytes the server has",
        403: "The photo was uploaded by someone else",
        404: "The photo itself has not arrived yet: send it first, then try again",
        409: "Another camera original was already stored for this photo, or the body starts after "
             "the server's offset (details.offset)",
        413: "The upload or the image is too large (bytes or pixels)",
        415: "The file is not a JPEG, PNG, WebP or HEIC image",
        429: "Too many unfinished uploads for this user",
        503: "It is still arriving over another connection, or the server is busy; try again",
    },
)
def camera_original_part(photo_uuid):
    return _part(photo_uuid, uploads.CAMERA_ORIGINAL)

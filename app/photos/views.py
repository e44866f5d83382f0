"""Serving photo files: thumbnail, display size, the evidence original and the camera's own file."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file
from flask_login import current_user, login_required

from ..errors import error_response
from ..extensions import db
from . import services
from .storage import StoreUnavailable, storage_for

bp = Blueprint("photos", __name__)


@bp.app_errorhandler(StoreUnavailable)
def _store_unavailable(err: StoreUnavailable):
    # Whoever reads the store when it does not answer (a document's photos, a backup's listing) gets
    # the photo domain's 503, not a 500: the same request later works, nothing was kept.
    busy = services.store_unavailable(err)
    db.session.rollback()  # a refused request leaves nothing behind, as errors' DomainError handler does
    body, status = error_response(busy.status, busy.code, busy.message)
    return body, status, {"Retry-After": str(busy.retry_after)}

_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}


def _serve(photo_uuid, variant: str):
    photo = services.get_photo(str(photo_uuid))
    if not services.may_view(current_user, photo, variant):
        abort(403)
    key, media_type = services.key_and_type(photo, variant)
    storage = storage_for(current_app.config)
    try:
        if not key or not storage.exists(key):  # a camera original that has not arrived (yet)
            abort(404)
        # A local file is streamed from its path; an object is read from the store (at most 25 MB).
        source = storage.path_of(key) if hasattr(storage, "path_of") else storage.open(key)
    except StoreUnavailable as err:
        raise services.store_unavailable(err) from err
    resp = send_file(
        source,
        mimetype=media_type,  # the type we decided by decoding; always an image, never HTML
        as_attachment=False,
        download_name=f"{photo.uuid}-{variant.replace('_', '-')}.{_EXT.get(media_type, 'bin')}",
        etag=key,  # content-addressed: the key is the content's hash
        conditional=True,
        max_age=None,
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # Files never change under a UUID, but they are access-controlled: browsers may keep them,
    # shared caches may not.
    resp.headers["Cache-Control"] = "private, max-age=86400, immutable"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.get("/photos/<uuid:photo_uuid>/thumb")
@login_required
def thumb(photo_uuid):
    return _serve(photo_uuid, "thumb")


@bp.get("/photos/<uuid:photo_uuid>/display")
@login_required
def display(photo_uuid):
    return _serve(photo_uuid, "display")


@bp.get("/photos/<uuid:photo_uuid>/original")
@login_required
def original(photo_uuid):
    return _serve(photo_uuid, "original")


@bp.get("/photos/<uuid:photo_uuid>/camera-original")
@login_required
def camera_original(photo_uuid):
    return _serve(photo_uuid, "camera_original")

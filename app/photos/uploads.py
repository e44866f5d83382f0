"""Resumable photo uploads: the bytes arrive in one or more PATCH bodies and are staged, per
(user, UUID), until the declared length is reached; then the staged file is stored exactly as a
PUT would store it (services.store_photo: same idempotency, refusals and pipeline).

On one bar of signal a connection drops mid-photo. Every block that arrived is appended to the
staging file as it arrives, so a body cut at 90 % keeps its 90 %: the client asks for the offset
and sends the rest. A body that starts before what the server has overlaps it (the overlap is
read and dropped); one that starts after it would leave a gap and is refused with the offset.

The same protocol fills the camera original of a stored photo (PHOTO_CAMERA_ORIGINALS): a `Target`
says what an upload fills, and its staging file is named apart (PHOTO, CAMERA_ORIGINAL).

Plain arguments: `read(n)` returns up to n bytes of the body and b"" at its end or when the client
went away (api.py turns a disconnect into b""); no Flask request here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors import Busy, Conflict, DomainError, InvalidInput, TooLarge
from app.extensions import db

from .models import Photo
from .services import StoredPhoto, normalise_uuid, photo_for_camera_original, store_camera_original, store_photo
from .storage import StagedUpload, staging_for

BLOCK = 64 * 1024  # read, append and flush the body in blocks of this size
LOCK_WAIT_SECONDS = 5.0  # a second request for the same upload waits this long for the first


class TooManyUploads(DomainError):
    status = 429
    code = "too_many_uploads"


@dataclass
class UploadState:
    offset: int  # bytes the server has
    total: int | None  # the declared length (None: nothing staged)
    stored: StoredPhoto | None = None  # set when the upload is complete and stored

    @property
    def complete(self) -> bool:
        return self.stored is not None


def _own_photo(user, photo_uuid: str) -> Photo | None:
    photo = db.session.scalar(select(Photo).where(Photo.uuid == photo_uuid))
    return photo if photo is not None and photo.uploaded_by_id == user.id else None


def _photo_done(user, photo_uuid: str) -> UploadState | None:
    photo = _own_photo(user, photo_uuid)
    if photo is None:
        return None
    return UploadState(photo.byte_size, photo.byte_size, StoredPhoto(photo, created=False))


def _camera_original_done(user, photo_uuid: str) -> UploadState | None:
    photo = photo_for_camera_original(user, photo_uuid)  # 404 before the photo, 403 not theirs
    size = photo.camera_original_bytes
    return UploadState(size, size, StoredPhoto(photo, created=False)) if size else None


@dataclass(frozen=True)
class Target:
    """What a resumable upload fills."""

    suffix: str  # names its staging file apart from other targets' under the same UUID
    done: Callable  # (user, uuid) -> the state when already stored, else None; may refuse (4xx)
    store: Callable  # (user, uuid, data, config) -> StoredPhoto, as its one-request upload would
    check_first: bool  # refuse (done's 4xx) before anything is staged


PHOTO = Target("", _photo_done, store_photo, check_first=False)
CAMERA_ORIGINAL = Target(".camera", _camera_original_done, store_camera_original, check_first=True)


def _hold(config, user_id: int, photo_uuid: str, target: Target, **kwargs):
    return staging_for(config).hold(user_id, photo_uuid, wait_seconds=LOCK_WAIT_SECONDS, suffix=target.suffix,
                                    **kwargs)


def upload_state(user, photo_uuid: str, config, target: Target = PHOTO) -> UploadState:
    """What the server has of this user's upload under this UUID. Someone else's photo or staged
    bytes under the same UUID are not theirs to see: for them the upload has not started."""
    photo_uuid = normalise_uuid(photo_uuid)
    done = target.done(user, photo_uuid)
    if done is not None:
        return done
    try:
        with _hold(config, user.id, photo_uuid, target, create=False) as staged:
            if staged is None:
                return UploadState(0, None)
            return UploadState(staged.offset, staged.total)
    except TimeoutError:  # a body is arriving right now: what is on disk so far
        raise _busy() from None


def _busy() -> Busy:
    return Busy(_("This photo is still arriving over another connection; try again in a moment."))


def receive(user, photo_uuid: str, offset: int, total: int, length: int, read: Callable[[int], bytes],
            config, target: Target = PHOTO) -> UploadState:
    """Append a body of `length` bytes that starts at byte `offset` of an upload of `total` bytes.

    Answers the state after it; when the last byte has arrived, the photo is stored (the state's
    `stored`) and the staged file removed. A refusal of the photo itself (409 another photo under
    this UUID, 413/415/400 not a photo) removes it too: sending the same bytes again cannot help.
    """
    photo_uuid = normalise_uuid(photo_uuid)
    if total > config["MAX_CONTENT_LENGTH"]:
        raise TooLarge(_("The photo is too large to upload (at most %(mb)d MB).",
                         mb=config["MAX_CONTENT_LENGTH"] // (1024 * 1024)), {"max_bytes": config["MAX_CONTENT_LENGTH"]})
    if offset + length > total:
        raise InvalidInput(_("The body goes past the upload's length (Upload-Length)."),
                           {"offset": offset, "length": length, "total": total})
    user_id = user.id
    if offset == total or target.check_first:  # the client believes it sent everything: stored already?
        done = target.done(user, photo_uuid)
        if done is not None and done.total == total:
            return done
    # The body may take minutes on 3G: hold no transaction (nor SQLite snapshot) while it arrives.
    db.session.rollback()
    staging, most = staging_for(config), config["PHOTO_STAGED_UPLOADS_PER_USER"]
    try:
        if not staging.has(user_id, photo_uuid, target.suffix) and staging.count_for(user_id) >= most:
            raise TooManyUploads(_("Too many unfinished photo uploads: finish or wait for the others first "
                                   "(at most %(n)d at once).", n=most))
        with _hold(config, user_id, photo_uuid, target, create=True, total=total) as staged:
            return _append_and_store(user, photo_uuid, staged, offset, total, length, read, config, target)
    except TimeoutError:
        raise _busy() from None


def _append_and_store(user, photo_uuid: str, staged: StagedUpload, offset: int, total: int, length: int,
                      read: Callable[[int], bytes], config, target: Target) -> UploadState:
    if staged.total != total:
        if offset != 0:
            raise Conflict(_("This upload was started with another length; send it again from byte 0."),
                           {"offset": staged.offset, "total": staged.total})
        staged.restart(total)  # the client starts over with other bytes
    have = staged.offset
    if offset > have:
        raise Conflict(_("The server has only %(have)d bytes of this photo: send the rest from there.", have=have),
                       {"offset": have, "total": total})
    skip, left = have - offset, length
    while left > 0:
        block = read(min(BLOCK, left))
        if not block:
            break  # the client went away: keep what arrived, it resumes from there
        left -= len(block)
        if skip:
            dropped = min(skip, len(block))
            block, skip = block[dropped:], skip - dropped
        if block:
            staged.append(block[: total - staged.offset])
    if staged.offset < total:
        return UploadState(staged.offset, total)
    try:
        stored = target.store(user, photo_uuid, staged.read(), config)
    except DomainError as err:
        if err.status < 500:
            staged.remove()
        raise
    staged.remove()
    return UploadState(total, total, stored)

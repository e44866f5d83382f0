"""Photo services: idempotent upload by client UUID, lookup, and who may see a photo.

Plain arguments (user, uuid, bytes, config); no Flask request here.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Busy, Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.org.models import Lab
from app.policy import Action, may
from app.timeutil import utcnow

from . import locks, pipeline
from .models import Photo
from .storage import StoreUnavailable, staging_for, storage_for

log = logging.getLogger(__name__)

VARIANTS = ("thumb", "display", "original", "camera_original")
ORIGINAL_VARIANTS = ("original", "camera_original")  # evidence: Action.VIEW_ORIGINAL_PHOTO
# Every column that names a stored file: a file one of them names is never pruned nor cleaned up.
_KEY_COLUMNS = ("original_key", "display_key", "thumb_key", "camera_original_key")


@dataclass
class StoredPhoto:
    photo: Photo
    created: bool  # False: a replay of bytes already stored under this UUID


def normalise_uuid(value) -> str:
    import uuid as _uuid

    try:
        return str(_uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(_("%(value)s is not a valid UUID.", value=value)) from None


def get_photo(photo_uuid: str) -> Photo:
    photo = db.session.scalar(select(Photo).where(Photo.uuid == normalise_uuid(photo_uuid)))
    if photo is None:
        raise NotFound(_("No such photo."))
    return photo


def photos_by_uuid(uuids) -> dict[str, Photo]:
    """The photos that have arrived among these UUIDs, in one query."""
    uuids = list({str(u) for u in uuids})
    if not uuids:
        return {}
    return {p.uuid: p for p in db.session.scalars(select(Photo).where(Photo.uuid.in_(uuids)))}


def _replay_or_conflict(existing: Photo, sha256: str, user) -> StoredPhoto:
    if existing.sha256 == sha256 and existing.uploaded_by_id == getattr(user, "id", None):
        return StoredPhoto(existing, created=False)
    raise Conflict(
        _("A different photo was already uploaded under this UUID. Give each photo its own UUID."),
        {"uuid": existing.uuid},
    )


def waiting_for_others(photo_uuids, user) -> list[str]:
    """The UUIDs among these that a record of someone else already refers to (an inspection answer,
    a ticket event): only its recorder fills such a UUID, so nobody can slip a picture into someone
    else's evidence by guessing it. One query per UUID and attaching domain; callers pass at most
    a record's photos (20)."""
    taken = []
    for photo_uuid in photo_uuids:
        owners = set()
        for _labs, recorders in _attachments.values():
            if recorders is not None:
                owners.update(db.session.scalars(recorders(photo_uuid)))
        if owners and owners != {user.id}:
            taken.append(photo_uuid)
    return taken


def check_reference_owner(photo_uuid: str, user) -> None:
    if waiting_for_others([photo_uuid], user):
        raise Forbidden(_("This photo belongs to a record made by someone else."))


def store_photo(user, photo_uuid: str, data: bytes, config) -> StoredPhoto:
    """Store one uploaded photo under the client's UUID.

    Same UUID and same bytes: the stored record, nothing new. Same UUID, other bytes: 409.
    Bad input raises before anything is written; if the row cannot be committed after the files
    were written, the files no other row uses are removed again.
    """
    photo_uuid = normalise_uuid(photo_uuid)
    if not data:
        raise InvalidInput(_("The upload is empty: choose a photo to send."))
    sha256 = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(select(Photo).where(Photo.uuid == photo_uuid))
    if existing is not None:
        return _replay_or_conflict(existing, sha256, user)
    check_reference_owner(photo_uuid, user)

    processed = pipeline.process(
        data,
        max_pixels=config["PHOTO_MAX_PIXELS"],
        min_bytes_per_megapixel=config["PHOTO_MIN_BYTES_PER_MEGAPIXEL"],
        decode_slots=config["PHOTO_DECODE_SLOTS"],
        decode_wait_seconds=config["PHOTO_DECODE_WAIT_SECONDS"],
        display_size=config["PHOTO_DISPLAY_SIZE"],
        thumb_size=config["PHOTO_THUMB_SIZE"],
        tz_name=config["SCHOOL_TIMEZONE"],
    )
    storage = storage_for(config)
    # The files, the row and (when the row does not land) the cleanup as one step per file, on
    # every host: see app/photos/locks.py. The decoding above, the slow part, runs outside it.
    keys = [sha256, hashlib.sha256(processed.display).hexdigest(), hashlib.sha256(processed.thumb).hexdigest()]
    try:
        with locks.holding(config, keys):
            return _write_and_commit(storage, user, photo_uuid, sha256, data, processed)
    except StoreUnavailable as err:
        raise store_unavailable(err) from err


def store_unavailable(err: StoreUnavailable) -> Busy:
    """503: the object store did not answer; nothing was saved, the phone's outbox sends it again."""
    log.error("photo store unavailable: %s", err)
    return Busy(_("The photo store cannot be reached right now; nothing was saved. Try again in a moment."))


def _write_and_commit(storage, user, photo_uuid: str, sha256: str, data: bytes, processed) -> StoredPhoto:
    written: list[str] = []
    try:
        keys = {}
        for name, blob in (("original", data), ("display", processed.display), ("thumb", processed.thumb)):
            key = hashlib.sha256(blob).hexdigest()
            if not storage.exists(key):
                written.append(key)  # ours to remove if the row never lands
            keys[name] = storage.put(blob)
        photo = Photo(
            uuid=photo_uuid,
            sha256=sha256,
            media_type=processed.media_type,
            byte_size=len(data),
            width=processed.width,
            height=processed.height,
            captured_at=processed.captured_at,
            original_key=keys["original"],
            display_key=keys["display"],
            thumb_key=keys["thumb"],
            uploaded_by_id=user.id,
        )
        db.session.add(photo)
        db.session.commit()
        return StoredPhoto(photo, created=True)
    except IntegrityError:
        # Two uploads of the same UUID raced: the other one won. Answer as a replay would.
        db.session.rollback()
        _remove_unreferenced(storage, written)
        existing = db.session.scalar(select(Photo).where(Photo.uuid == photo_uuid))
        if existing is None:  # pragma: no cover - an integrity error of another kind
            raise
        return _replay_or_conflict(existing, sha256, user)
    except BaseException:
        db.session.rollback()
        _remove_unreferenced(storage, written)
        raise


def _remove_unreferenced(storage, keys: list[str]) -> None:
    for key in keys:
        try:
            used = db.session.scalar(
                select(Photo.id).where(or_(*(getattr(Photo, c) == key for c in _KEY_COLUMNS))).limit(1)
            )
            if used is None:
                storage.delete(key)
        except Exception:  # cleanup must not hide the original error
            log.exception("could not remove unreferenced photo file %s", key)


# ---- the camera's own file of a stored photo (PHOTO_CAMERA_ORIGINALS) ----------------------------

def photo_for_camera_original(user, photo_uuid: str) -> Photo:
    """The photo a camera original is sent for: it must have arrived (the phone sends it first;
    404 tells the phone to try again later) and only its uploader sends its camera file."""
    photo = db.session.scalar(select(Photo).where(Photo.uuid == normalise_uuid(photo_uuid)))
    if photo is None:
        raise NotFound(_("The photo has not arrived yet: its camera original follows it later."))
    if photo.uploaded_by_id != getattr(user, "id", None):
        raise Forbidden(_("Only the person who took this photo can send its camera original."))
    return photo


def _camera_original_replay(photo: Photo, sha256: str) -> StoredPhoto:
    if photo.camera_original_sha256 == sha256:
        return StoredPhoto(photo, created=False)
    raise Conflict(_("Another camera original was already stored for this photo."), {"uuid": photo.uuid})


def store_camera_original(user, photo_uuid: str, data: bytes, config) -> StoredPhoto:
    """Keep the camera's own file of a photo the user uploaded, byte for byte.

    It is not decoded: the pipeline's header checks (type, pixels, bytes per megapixel) refuse what
    is not a photo, and the request size (MAX_CONTENT_LENGTH) bounds it. Same bytes again: the
    stored record (200); other bytes once one is stored: 409. Recorded with a conditional UPDATE,
    so of two racing uploads one wins and the other is answered as a replay or a conflict."""
    photo = photo_for_camera_original(user, photo_uuid)
    if not data:
        raise InvalidInput(_("The upload is empty: choose a photo to send."))
    sha256 = hashlib.sha256(data).hexdigest()
    if photo.camera_original_sha256 is not None:
        return _camera_original_replay(photo, sha256)
    media_type = pipeline.identify(data, max_pixels=config["PHOTO_MAX_PIXELS"],
                                   min_bytes_per_megapixel=config["PHOTO_MIN_BYTES_PER_MEGAPIXEL"])
    try:
        return _store_camera_original(photo, sha256, data, media_type, config)
    except StoreUnavailable as err:
        raise store_unavailable(err) from err


def _store_camera_original(photo: Photo, sha256: str, data: bytes, media_type: str, config) -> StoredPhoto:
    storage = storage_for(config)
    with locks.holding(config, [sha256]):
        written = [] if storage.exists(sha256) else [sha256]
        try:
            key = storage.put(data)
            done = db.session.execute(
                update(Photo)
                .where(Photo.id == photo.id, Photo.camera_original_key.is_(None))
                .values(camera_original_key=key, camera_original_sha256=sha256, camera_original_bytes=len(data),
                        camera_original_type=media_type, camera_original_at=utcnow())
            ).rowcount
            db.session.commit()
        except BaseException:
            db.session.rollback()
            _remove_unreferenced(storage, written)
            raise
        db.session.refresh(photo)
        if not done:  # another request stored one first
            _remove_unreferenced(storage, written)
            return _camera_original_replay(photo, sha256)
        return StoredPhoto(photo, created=True)


# ---- orphans: files no row references ----------------------------------------------------------

def referenced_keys(conn, keys=None) -> set[str]:
    """The storage keys that photo rows refer to (of `keys` when given), read on `conn`: a
    connection or session, so the backup can ask inside its own snapshot."""
    columns = [Photo.__table__.c[name] for name in _KEY_COLUMNS]
    found: set[str] = set()
    if keys is None:
        for column in columns:
            found.update(conn.execute(select(column).where(column.is_not(None)).distinct()).scalars())
        return found
    keys = list(keys)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for column in columns:
            found.update(conn.execute(select(column).where(column.in_(chunk)).distinct()).scalars())
    return found


@dataclass
class PruneReport:
    orphans: list[str]  # keys removed (or, in a dry run, that would be)
    leftovers: int  # temp files of crashed writes removed
    staged: int = 0  # unfinished uploads nothing arrived for in the grace period (removed, or would be)


_PRUNE_CHUNK = 200  # keys locked at once by the sweep (PostgreSQL's lock table is shared and bounded)


def prune_orphans(config, grace_seconds: float, *, dry_run: bool = False) -> PruneReport:
    """Remove the stored files that no photo row references and that are older than the grace
    period: what an upload leaves when its process dies between writing its files and committing
    its row. A file a row references is never removed.

    The store is listed first, without any lock; then, a chunk at a time, holding the candidates'
    locks (app/photos/locks.py), the rows are read and the unreferenced files removed. An upload
    holds the locks of its files from before it looks for them to its commit, on whichever host it
    runs, so no upload is between the two while the rows are read: an upload that found an old
    orphan present and was about to reference it has committed its row by then, or has not yet
    looked and will write the file again. The grace period spares files of writers that do not
    take the locks.

    Resumable uploads nothing was appended to for the grace period are abandoned: their staging
    files go too (``staged`` in the report; one a request is appending to right now stays)."""
    storage = storage_for(config)
    candidates = sorted(storage.keys_older_than(grace_seconds))
    orphans: list[str] = []
    for i in range(0, len(candidates), _PRUNE_CHUNK):
        chunk = candidates[i:i + _PRUNE_CHUNK]
        with locks.holding(config, chunk):
            db.session.rollback()  # read in a transaction that starts now, under the locks
            try:
                used = referenced_keys(db.session, chunk)
            finally:
                db.session.rollback()
            gone = [key for key in chunk if key not in used]
            if not dry_run:
                for key in gone:
                    storage.delete(key)
        orphans.extend(gone)
    leftovers = 0 if dry_run else storage.remove_leftovers(grace_seconds)
    staged = staging_for(config).remove_older_than(grace_seconds, dry_run=dry_run)
    return PruneReport(orphans, leftovers, staged)


# ---- what a photo is attached to, and who may see it -------------------------------------------

# Inspections and tickets attach photos and sit above photos: each registers at start-up (create_app)
# a SELECT of the lab ids a photo is evidence for, and optionally one of the users whose records
# already refer to a photo's UUID before it arrives. Keyed by owner, so registering again replaces.
_attachments: dict[str, tuple[Callable[[Photo], Select], Callable[[str], Select] | None]] = {}


def attach_with(owner: str, lab_ids: Callable[[Photo], Select], recorders: Callable[[str], Select] | None = None):
    """Register how ``owner`` attaches photos: ``lab_ids(photo)`` selects the labs the photo is
    evidence for there; ``recorders(uuid)`` selects who recorded a reference to the UUID."""
    _attachments[owner] = (lab_ids, recorders)


def labs_of_photo(photo: Photo) -> list:
    """Labs a photo is evidence for, through whatever attaches it (one query)."""
    if not _attachments:
        return []
    return list(db.session.scalars(
        select(Lab).where(or_(*(Lab.id.in_(lab_ids(photo)) for lab_ids, _recorders in _attachments.values())))
    ))


def may_view(user, photo: Photo, variant: str) -> bool:
    if variant not in VARIANTS:
        return False
    if getattr(user, "is_authenticated", False) and photo.uploaded_by_id == user.id:
        return True  # the uploader sees their own photo, referenced yet or not
    action = Action.VIEW_ORIGINAL_PHOTO if variant in ORIGINAL_VARIANTS else Action.VIEW_PHOTO
    # Not referenced by anything yet: nobody but the uploader (no lab to judge by).
    return any(may(user, action, lab) for lab in labs_of_photo(photo))


def key_and_type(photo: Photo, variant: str) -> tuple[str | None, str | None]:
    """The stored file of a variant and its media type (key None: this photo has none)."""
    if variant == "original":
        return photo.original_key, photo.media_type
    if variant == "camera_original":
        return photo.camera_original_key, photo.camera_original_type
    return (photo.display_key if variant == "display" else photo.thumb_key), "image/jpeg"


def urls_for(photo_uuid: str) -> dict:
    return {
        "thumb_url": f"/photos/{photo_uuid}/thumb",
        "display_url": f"/photos/{photo_uuid}/display",
        "original_url": f"/photos/{photo_uuid}/original",
    }


def camera_original_url(photo: Photo | None) -> str | None:
    """Where the camera's own file of a photo is served, when it has arrived."""
    return f"/photos/{photo.uuid}/camera-original" if photo is not None and photo.camera_original_key else None


def display_copies(photo_uuids, config) -> dict[str, bytes]:
    """The display-size JPEG of each photo that has arrived among these UUIDs (one query; a file
    missing from the store is left out): what issued documents print as evidence (app.documents)."""
    storage = storage_for(config)
    out = {}
    for uuid, photo in photos_by_uuid(photo_uuids).items():
        if photo.display_key and storage.exists(photo.display_key):
            with storage.open(photo.display_key) as fh:
                out[uuid] = fh.read()
    return out

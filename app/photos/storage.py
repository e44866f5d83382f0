"""Photo storage behind a small interface, so object storage can replace local files later.

Content-addressed: the key is the SHA-256 of the bytes, so identical photos are stored once and a
stored file can never change under its key (evidence, art. 30).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[0-9a-f]{64}$")


class PhotoStorage(Protocol):
    def put(self, data: bytes) -> str: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def exclusive(self) -> contextlib.AbstractContextManager: ...


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalFileStorage:
    """Files under ``root/ab/cd/<sha256>``; written to a temp file in the same tree, then renamed
    into place, so a reader never sees half a file and a crash leaves at most a temp file."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key or ""):
            raise ValueError(f"not a storage key: {key!r}")  # never a path from outside
        return self.root / key[:2] / key[2:4] / key

    def _tmp_dir(self) -> Path:
        d = self.root / ".tmp"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def put(self, data: bytes) -> str:
        key = content_key(data)
        path = self._path(key)
        if path.exists():
            return key  # identical bytes are stored once
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp_dir(), prefix="put-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)  # atomic on one filesystem
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held by one writer at a time, in every process and thread of this machine: an upload holds
        it from its first ``put`` until its row is committed, or its files are cleaned up again.

        The store is content-addressed, so two uploads of the same bytes share files. Without this,
        upload A (its commit failed) could delete a file that upload B, under another UUID, had just
        found present and was about to commit a row for: B's evidence would point at nothing. Under
        the lock a cleanup sees every row that refers to its files. An advisory lock on a file (flock),
        so a crashed process releases it with its descriptor. Taken before SQLite's write lock, as the
        upload does: the other way round the holder of this lock would wait out busy_timeout and fail."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        """The keys of the stored files last written more than `seconds` ago."""
        cutoff = time.time() - seconds
        for a in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for b in sorted(a.glob("[0-9a-f][0-9a-f]")):
                for path in sorted(b.iterdir()):
                    name = path.name
                    if _KEY.match(name) and name[:2] == a.name and name[2:4] == b.name:
                        with contextlib.suppress(FileNotFoundError):
                            if path.is_file() and path.stat().st_mtime < cutoff:
                                yield name

    def remove_leftovers(self, seconds: float) -> int:
        """Remove temp files a crashed write left (``.tmp/put-*``, ``.restore-*`` beside the files)
        older than `seconds`; answer how many. No key names them, so no row can refer to them."""
        cutoff = time.time() - seconds
        removed = 0
        for path in [*self.root.glob(".tmp/put-*"), *self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/.restore-*")]:
            with contextlib.suppress(FileNotFoundError):
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

    def path_of(self, key: str) -> Path:
        """Local-only helper (send_file can stream a path efficiently)."""
        return self._path(key)


def storage_for(config) -> LocalFileStorage:
    return LocalFileStorage(config["PHOTO_STORE"])


# ---- uploads that arrive in parts (PATCH /api/photos/<uuid>/upload) -----------------------------

_HEADER = 16  # a staging file starts with the upload's declared length, 16 ASCII digits
_STAGED = re.compile(r"^(\d+)-([0-9a-f-]{36})(\.camera)?\.part$")


class StagedUpload:
    """One partly received upload, open and locked (flock) by the request appending to it."""

    def __init__(self, path: Path, fd: int):
        self.path, self.fd = path, fd

    @property
    def total(self) -> int:
        head = os.pread(self.fd, _HEADER, 0)
        return int(head) if len(head) == _HEADER and head.isdigit() else 0

    @property
    def offset(self) -> int:
        """How many bytes of the upload have arrived."""
        return max(0, os.fstat(self.fd).st_size - _HEADER)

    def restart(self, total: int) -> None:
        """Forget what arrived; expect `total` bytes from 0."""
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, b"%016d" % total, 0)

    def append(self, block: bytes) -> None:
        """Append and hand to the OS at once: a dropped connection or a killed worker keeps it."""
        os.lseek(self.fd, 0, os.SEEK_END)
        view = memoryview(block)
        while view:
            view = view[os.write(self.fd, view):]

    def read(self) -> bytes:
        size = self.offset
        return os.pread(self.fd, size, _HEADER) if size else b""

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class UploadStaging:
    """Uploads still arriving: ``root/<user id>-<uuid>.part``, one file per (user, UUID), so one
    user's bytes never join another's upload of the same UUID. Kept beside the photo store, not in
    it: a partial upload is not evidence, and the backup of the store does not carry it."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, user_id: int, photo_uuid: str, suffix: str = "") -> Path:
        name = f"{int(user_id)}-{photo_uuid}{suffix}.part"  # suffix ".camera": its camera original
        if not _STAGED.match(name):
            raise ValueError(f"not a photo UUID: {photo_uuid!r}")  # never a path from outside
        return self.root / name

    def has(self, user_id: int, photo_uuid: str, suffix: str = "") -> bool:
        return self._path(user_id, photo_uuid, suffix).exists()

    def count_for(self, user_id: int) -> int:
        return sum(1 for _ in self.root.glob(f"{int(user_id)}-*.part"))

    @contextlib.contextmanager
    def hold(self, user_id: int, photo_uuid: str, *, create: bool, wait_seconds: float,
             total: int = 0, suffix: str = "") -> Iterator[StagedUpload | None]:
        """The staged upload, locked for this request (None: none is staged and `create` is false;
        a new one expects `total` bytes). Raises TimeoutError when another request holds it longer
        than `wait_seconds`."""
        path = self._path(user_id, photo_uuid, suffix)
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o640)
            except FileNotFoundError:
                yield None
                return
            try:
                _lock_until(fd, deadline)
                # The holder before us may have finished and removed the file: then start again.
                if os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        try:
            staged = StagedUpload(path, fd)
            if os.fstat(fd).st_size < _HEADER:  # new (or a crash before its header was written)
                staged.restart(total)
            yield staged
        finally:
            os.close(fd)  # releases the lock

    def remove_older_than(self, seconds: float, *, dry_run: bool = False) -> int:
        """Remove the uploads nothing was appended to for `seconds` (abandoned); answer how many.
        One that a request holds right now is left alone."""
        cutoff = time.time() - seconds
        removed = 0
        for path in sorted(self.root.glob("*.part")) if self.root.is_dir() else []:
            with contextlib.suppress(FileNotFoundError):
                if not _STAGED.match(path.name) or path.stat().st_mtime >= cutoff:
                    continue
                fd = os.open(path, os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    if not dry_run:
                        path.unlink()
                    removed += 1
                finally:
                    os.close(fd)
        return removed


def _lock_until(fd: int, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError from None
            time.sleep(0.05)


def staging_for(config) -> UploadStaging:
    """``PHOTO_UPLOAD_STAGING``, or a folder beside the photo store (``<store>-uploads``)."""
    root = config.get("PHOTO_UPLOAD_STAGING") or f"{str(config['PHOTO_STORE']).rstrip('/')}-uploads"
    return UploadStaging(root)

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

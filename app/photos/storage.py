"""Photo storage behind a small interface: files on a local disk (the default) or objects in an
S3-compatible service (MinIO, Aliyun OSS, Tencent COS, AWS), chosen by PHOTO_STORE.

Content-addressed: the key is the SHA-256 of the bytes, so identical photos are stored once and a
stored file can never change under its key (evidence, art. 30). Who may delete a stored file while
another upload is about to reference it is decided in the database, not here (app/photos/locks.py).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[0-9a-f]{64}$")


class PhotoStorage(Protocol):
    def put(self, data: bytes) -> str: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys_older_than(self, seconds: float) -> Iterator[str]: ...

    def remove_leftovers(self, seconds: float) -> int: ...


class StoreUnavailable(OSError):
    """The object store did not answer or refused (network, credentials, a missing bucket): nothing
    the user sent is wrong, and the same request later may work (services answer 503)."""


@contextlib.contextmanager
def _service_errors() -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError  # import here: only an S3 store loads boto3

    try:
        yield
    except (BotoCoreError, ClientError) as err:
        raise StoreUnavailable(f"object store: {err}") from err


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

    def keys(self) -> Iterator[str]:
        """Every stored file's key."""
        return self.keys_older_than(-1e12)

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        """The keys of the stored files last written more than `seconds` ago."""
        cutoff = time.time() - seconds
        if not self.root.is_dir():
            return
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


class S3Storage:
    """Objects ``<prefix>/ab/cd/<sha256>`` in one bucket of an S3-compatible service.

    A PUT of an object is atomic (a reader sees the whole object or none), so no temp objects are
    written and a crashed upload leaves at most whole orphans, which `flask prune-photos` removes
    after the grace period (their age is the object's LastModified, the service's clock).
    ``open`` reads the object into memory: photos are bounded by MAX_CONTENT_LENGTH (25 MB)."""

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def _name(self, key: str) -> str:
        if not _KEY.match(key or ""):
            raise ValueError(f"not a storage key: {key!r}")
        rel = f"{key[:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def put(self, data: bytes) -> str:
        key = content_key(data)
        if self.exists(key):
            return key  # identical bytes are stored once
        digest = hashlib.md5(data, usedforsecurity=False).digest()  # the service checks what it received
        with _service_errors():
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data,
                                   ContentMD5=_b64(digest), ContentType="application/octet-stream")
        return key

    def open(self, key: str) -> BinaryIO:
        with _service_errors():
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
            except self.client.exceptions.NoSuchKey:
                raise FileNotFoundError(key) from None
            with contextlib.closing(body):
                return io.BytesIO(body.read())

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError  # import here: boto3 is loaded only for an S3 store

        with _service_errors():
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
        return True

    def delete(self, key: str) -> None:
        with _service_errors():
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def _objects(self) -> Iterator[dict]:
        with _service_errors():
            yield from self._listed()

    def _listed(self) -> Iterator[dict]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in pages:
            for obj in page.get("Contents", ()):
                name = obj["Key"][len(self.prefix) + 1:] if self.prefix else obj["Key"]
                parts = name.split("/")
                if len(parts) == 3 and _KEY.match(parts[2]) and parts[0] == parts[2][:2] and parts[1] == parts[2][2:4]:
                    yield {"key": parts[2], "modified": obj["LastModified"], "size": obj["Size"]}

    def keys(self) -> Iterator[str]:
        for obj in self._objects():
            yield obj["key"]

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        cutoff = datetime.fromtimestamp(time.time() - seconds, UTC)
        for obj in self._objects():
            if obj["modified"] < cutoff:
                yield obj["key"]

    def remove_leftovers(self, seconds: float) -> int:
        return 0  # a PUT is atomic: nothing half-written is ever left under a name

    def check_writable(self) -> None:
        """/readyz: write and remove an object under a name that is never a content key (the sweep and
        the listing skip it), so a probe can never touch a photo. Raises StoreUnavailable."""
        name = f"{self.prefix}/.readyz-{uuid.uuid4().hex}" if self.prefix else f".readyz-{uuid.uuid4().hex}"
        with _service_errors():
            self.client.put_object(Bucket=self.bucket, Key=name, Body=b"ok")
            self.client.delete_object(Bucket=self.bucket, Key=name)


def _b64(raw: bytes) -> str:
    import base64  # only S3 uploads need it

    return base64.b64encode(raw).decode("ascii")


_CLIENTS: dict[tuple, object] = {}
_CLIENTS_LOCK = threading.Lock()


def _s3_client(config):
    """One client per process and settings: boto3 clients are thread-safe and costly to make."""
    settings = (config.get("PHOTO_S3_ENDPOINT_URL") or None, config.get("PHOTO_S3_REGION") or None,
                config.get("PHOTO_S3_ACCESS_KEY_ID") or None, config.get("PHOTO_S3_SECRET_ACCESS_KEY") or None,
                bool(config.get("PHOTO_S3_PATH_STYLE")))
    with _CLIENTS_LOCK:
        if settings not in _CLIENTS:
            # Imported here: boto3 takes ~0.3 s to load, and a local store never needs it.
            import boto3
            from botocore.config import Config as BotoConfig

            endpoint, region, key_id, secret, path_style = settings
            _CLIENTS[settings] = boto3.session.Session().client(
                "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key_id,
                aws_secret_access_key=secret,
                config=BotoConfig(s3={"addressing_style": "path" if path_style else "auto"},
                                  retries={"mode": "standard", "max_attempts": 4},
                                  connect_timeout=5, read_timeout=30,
                                  max_pool_connections=int(config.get("PHOTO_S3_MAX_CONNECTIONS") or 20)))
        return _CLIENTS[settings]


def is_object_store(location) -> bool:
    return str(location or "").startswith("s3://")


def storage_at(location, config) -> LocalFileStorage | S3Storage:
    """The store at `location`: ``s3://bucket/prefix`` (the S3 settings in `config`) or a directory."""
    location = str(location)
    if is_object_store(location):
        bucket, _, prefix = location[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"PHOTO_STORE {location!r} names no bucket (s3://bucket/prefix)")
        return S3Storage(bucket, prefix, _s3_client(config))
    return LocalFileStorage(location)


def storage_for(config) -> LocalFileStorage | S3Storage:
    return storage_at(config["PHOTO_STORE"], config)


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
    """``PHOTO_UPLOAD_STAGING``, or a folder beside a local photo store (``<store>-uploads``); with
    an object store, create_app sets it to ``<instance>/photo-uploads``."""
    root = config.get("PHOTO_UPLOAD_STAGING") or f"{str(config['PHOTO_STORE']).rstrip('/')}-uploads"
    return UploadStaging(root)

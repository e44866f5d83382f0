"""The photo tests run twice: on the local-disk store and on an S3 store (PHOTO_STORE=s3://...).

The S3-compatible server is moto's (``moto[server]``), started once per test process on
127.0.0.1 as a ThreadedMotoServer: it speaks the S3 HTTP protocol to boto3 like MinIO or OSS
would (signatures, HEAD 404s, paginated listings, Content-MD5), needs no binary, Docker or
network, and runs inside the test process, so a test can age an object (its LastModified) the way
it ages a local file (utime): the sweep's grace period is then tested the same way on both stores.
Each test gets a bucket of its own. Other processes (a crashing upload, a second app host) reach
the same server through its port.
"""
from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.photos.storage import LocalFileStorage, S3Storage, storage_for
from tests.conftest import _app_on

S3_ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = int(os.environ.get("LABSAFE_TEST_S3_PORT", "0"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if port:
        port += int(worker[2:] or 0)  # one server per test process
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str) -> dict:
    return {"PHOTO_STORE": f"s3://{bucket}/photos", "PHOTO_S3_ENDPOINT_URL": endpoint,
            "PHOTO_S3_REGION": "us-east-1", "PHOTO_S3_ACCESS_KEY_ID": "testing",
            "PHOTO_S3_SECRET_ACCESS_KEY": "testing", "PHOTO_S3_PATH_STYLE": True}


def s3_env(config) -> dict:
    """The environment that gives another process the same photo store as `config`."""
    names = ("PHOTO_STORE", "PHOTO_S3_ENDPOINT_URL", "PHOTO_S3_REGION", "PHOTO_S3_ACCESS_KEY_ID",
             "PHOTO_S3_SECRET_ACCESS_KEY")
    env = {f"LABSAFE_{n}": str(config[n]) for n in names if config.get(n)}
    if config.get("PHOTO_S3_PATH_STYLE"):
        env["LABSAFE_PHOTO_S3_PATH_STYLE"] = "1"
    return env


@pytest.fixture(params=["local", "s3"])
def photo_store(request):
    return request.param


@pytest.fixture
def app(database_url, tmp_path, request, photo_store):
    """The suite's app (tests/conftest.py), on the local store or on a bucket of its own."""
    template = None if database_url else request.getfixturevalue("sqlite_template")
    for app in _app_on(database_url, tmp_path, template):
        if photo_store == "s3":
            endpoint = request.getfixturevalue("s3_server")
            app.config.update(s3_settings(endpoint, f"labsafe-{uuid.uuid4().hex[:12]}"),
                              PHOTO_UPLOAD_STAGING=str(tmp_path / "instance" / "photo-uploads"))
            store = storage_for(app.config)
            store.client.create_bucket(Bucket=store.bucket)
        yield app


def stored_files(app) -> list[str]:
    """Every file under PHOTO_STORE (temp files included; not the store's lock file, which holds
    nothing), or every object in its bucket."""
    store = storage_for(app.config)
    if isinstance(store, S3Storage):
        pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
        return sorted(f"s3://{store.bucket}/{o['Key']}" for p in pages for o in p.get("Contents", ()))
    out = []
    root = app.config["PHOTO_STORE"]
    for where, _dirs, files in os.walk(root):
        out.extend(os.path.join(where, f) for f in files if not (where == root and f == ".lock"))
    return sorted(out)


def age(app, key: str, seconds: float) -> None:
    """Make a stored file look `seconds` old (mtime of a file; LastModified of an object)."""
    store = storage_for(app.config)
    then = datetime.now(UTC).timestamp() - seconds
    if isinstance(store, LocalFileStorage):
        os.utime(store.path_of(key), (then, then))
        return
    from moto.s3.models import s3_backends  # the server runs in this process

    bucket = s3_backends[S3_ACCOUNT]["aws"].buckets[store.bucket]
    for obj in bucket.keys.getlist(store._name(key)):
        obj.last_modified = datetime.fromtimestamp(then, UTC).replace(tzinfo=None)


@pytest.fixture
def files(app):
    return lambda: stored_files(app)


__all__ = ["age", "db", "s3_env", "stored_files"]

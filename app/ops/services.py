"""Backup and restore of the database and the photo store.

A backup is a directory:

    db.sqlite3 | db.dump     the database: SQLite's online backup API / ``pg_dump -Fc``
    photos/ab/cd/<sha256>    the photo store (content-addressed, so a plain file copy), from a local
                             directory or from the S3 bucket (PHOTO_STORE=s3://...) alike
    manifest.json            when, which database, row counts, SHA-256 of every file

Consistency: the database copy is one snapshot (SQLite's backup API copies a single read
transaction; pg_dump runs in one repeatable-read transaction whose snapshot is also used to count
rows). The photo store is copied AFTER the snapshot: a photo row is committed only after its file
is in the store, so every photo the snapshot knows has its file in the copy. Only the files the
snapshot's photo rows reference are copied: an upload that crashed between its files and its row
leaves orphans (`flask prune-photos` removes them), and files uploaded during the copy belong to
rows the snapshot does not have.

No Flask request here: the functions take the database URL and the photo store (a path, or a
store from app.photos.storage: a local directory or an S3 bucket).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from app.errors import Conflict, InvalidInput
from app.photos.services import referenced_keys
from app.photos.storage import LocalFileStorage, content_key

MANIFEST = "manifest.json"
FORMAT = 1
PG_DUMP = os.environ.get("LABSAFE_PG_DUMP", "pg_dump")
PG_RESTORE = os.environ.get("LABSAFE_PG_RESTORE", "pg_restore")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InvalidInput(f"Backups support SQLite and PostgreSQL, not {backend}.")
    return backend


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise InvalidInput("An in-memory SQLite database cannot be backed up.")
    return Path(path)


def _pg_args(url: str) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump/pg_restore from a SQLAlchemy URL (password via env)."""
    u = make_url(url)
    args = []
    if u.host:
        args += ["-h", u.host]
    if u.port:
        args += ["-p", str(u.port)]
    if u.username:
        args += ["-U", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args + ["-d", u.database], env


def _sa_url(url: str) -> str:
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _count_rows(conn, table_names) -> dict[str, int]:
    md = MetaData()
    counts = {}
    for name in sorted(table_names):
        from sqlalchemy import Table

        t = Table(name, md, autoload_with=conn)
        counts[name] = conn.execute(select(func.count()).select_from(t)).scalar_one()
    return counts


def _user_tables(conn) -> list[str]:
    return [t for t in inspect(conn).get_table_names() if not t.startswith("sqlite_")]


# ---- backup ---------------------------------------------------------------------------------

def _store(photo_store):
    """A store (app.photos.storage) as given, or the local directory at a path."""
    return photo_store if hasattr(photo_store, "put") else LocalFileStorage(photo_store)


def backup(database_url: str, photo_store, out_dir: str | os.PathLike) -> Path:
    """Write a backup directory under out_dir and answer its path."""
    kind = _kind(database_url)
    started = datetime.now(UTC)
    target = Path(out_dir) / f"labsafe-backup-{started.strftime('%Y%m%dT%H%M%S_%fZ')}"
    target.mkdir(parents=True, exist_ok=False)
    try:
        if kind == "sqlite":
            db_file, counts, keys = _backup_sqlite(database_url, target)
        else:
            db_file, counts, keys = _backup_postgres(database_url, target)
        photos = _copy_photos(_store(photo_store), target / "photos", keys)
        manifest = {
            "format": FORMAT,
            "created_at": started.isoformat().replace("+00:00", "Z"),
            "finished_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "database": {"kind": kind, "file": db_file, "sha256": _sha256(target / db_file),
                         "size": (target / db_file).stat().st_size},
            "counts": counts,
            "photos": photos,
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # no half backup that looks whole
        raise
    return target


def _photo_keys(conn) -> set[str]:
    """The photo files the snapshot's rows reference (the photos domain says which columns)."""

    return referenced_keys(conn) if "photos" in _user_tables(conn) else set()


def _backup_sqlite(url: str, target: Path) -> tuple[str, dict, set[str]]:
    src_path = _sqlite_path(url)
    if not src_path.exists():
        raise InvalidInput(f"No database at {src_path}.")
    dest = target / "db.sqlite3"
    src = sqlite3.connect(src_path, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
    finally:
        dst.close()
        src.close()
    eng = create_engine(f"sqlite:///{dest}")
    try:
        with eng.connect() as conn:
            counts = _count_rows(conn, _user_tables(conn))
            keys = _photo_keys(conn)
    finally:
        eng.dispose()
    return "db.sqlite3", counts, keys


def _check_pg_dump_version(conn) -> None:
    """pg_dump refuses a newer server; say so plainly (CI installs postgresql-client)."""
    import re

    try:
        out = subprocess.run([PG_DUMP, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(f"pg_dump is not available ({exc}); install postgresql-client.") from exc
    m = re.search(r"\)\s*(\d+)", out)
    client_major = int(m.group(1)) if m else 0
    server_major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    if client_major < server_major:
        raise RuntimeError(f"pg_dump {client_major} cannot dump a PostgreSQL {server_major} server; "
                           f"install postgresql-client-{server_major}.")


def _backup_postgres(url: str, target: Path) -> tuple[str, dict, set[str]]:
    dest = target / "db.dump"
    args, env = _pg_args(url)
    eng = create_engine(_sa_url(url))
    try:
        with eng.connect() as conn:
            # One snapshot for the dump and for the counts in the manifest.
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            _check_pg_dump_version(conn)
            counts = _count_rows(conn, _user_tables(conn))
            keys = _photo_keys(conn)
            proc = subprocess.run(
                [PG_DUMP, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", "-f", str(dest), *args],
                env=env, capture_output=True, text=True,
            )
            conn.rollback()
    finally:
        eng.dispose()
    if proc.returncode != 0:
        raise RuntimeError(f"pg_dump failed ({proc.returncode}): {proc.stderr.strip()}")
    return "db.dump", counts, keys


def _copy_photos(store, dest: Path, keys: set[str]) -> dict[str, dict]:
    """Copy the files of these keys out of the store (a local directory or a bucket); a key the
    store does not have is left out (the manifest lists what the backup holds)."""
    dest.mkdir(parents=True, exist_ok=True)
    files = {}
    for key in sorted(keys):
        rel = f"{key[:2]}/{key[2:4]}/{key}"
        try:
            src = store.open(key)
        except FileNotFoundError:
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        with src, open(out, "wb") as fh:
            shutil.copyfileobj(src, fh, 1 << 20)
        files[rel] = {"sha256": _sha256(out), "size": out.stat().st_size}
    return files


# ---- restore --------------------------------------------------------------------------------

def read_manifest(backup_dir: str | os.PathLike) -> dict:
    path = Path(backup_dir) / MANIFEST
    if not path.is_file():
        raise InvalidInput(f"{backup_dir} is not a LabSafe backup (no {MANIFEST}).")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def verify(backup_dir: str | os.PathLike) -> dict:
    """Check every file of the backup against its SHA-256 in the manifest."""
    root = Path(backup_dir)
    manifest = read_manifest(root)
    bad = []
    db_info = manifest["database"]
    if not (root / db_info["file"]).is_file() or _sha256(root / db_info["file"]) != db_info["sha256"]:
        bad.append(db_info["file"])
    for rel, info in manifest["photos"].items():
        p = root / "photos" / rel
        if not p.is_file() or _sha256(p) != info["sha256"]:
            bad.append(f"photos/{rel}")
    if bad:
        raise InvalidInput("The backup is damaged: " + ", ".join(bad[:10]), {"files": bad})
    return manifest


def _database_rows(url: str) -> int:
    eng = create_engine(_sa_url(url))
    try:
        with eng.connect() as conn:
            tables = [t for t in _user_tables(conn) if t != "alembic_version"]
            return sum(_count_rows(conn, tables).values())
    finally:
        eng.dispose()


def restore(backup_dir: str | os.PathLike, database_url: str, photo_store, *, force: bool = False) -> dict:
    """Bring a backup back into an empty database and photo store; answer the manifest.

    Refuses (Conflict) when the database has rows or the photo store has files, unless force.
    """
    root = Path(backup_dir)
    manifest = verify(root)
    kind = _kind(database_url)
    if manifest["database"]["kind"] != kind:
        raise InvalidInput(
            f"This backup is of a {manifest['database']['kind']} database; the target is {kind}."
        )
    store = _store(photo_store)
    if not force:
        if kind == "postgresql" or _sqlite_path(database_url).exists():
            rows = _database_rows(database_url)
            if rows:
                raise Conflict(f"The target database is not empty ({rows} rows); use --force to overwrite it.")
        if any(True for _ in store.keys()):
            where = getattr(store, "location", None) or getattr(store, "root", "")
            raise Conflict(f"The photo store {where} is not empty; use --force to overwrite it.")
    if kind == "sqlite":
        _restore_sqlite(root / manifest["database"]["file"], database_url)
    else:
        _restore_postgres(root / manifest["database"]["file"], database_url)
    _restore_photos(root / "photos", store, manifest["photos"])
    _check_counts(database_url, manifest["counts"])
    return manifest


def _restore_sqlite(db_file: Path, url: str) -> None:
    dest_path = _sqlite_path(url)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    dst = sqlite3.connect(dest_path, timeout=30)
    try:
        src.backup(dst)  # replaces the target's pages wholesale, in one transaction
    finally:
        dst.close()
        src.close()


def _restore_postgres(dump: Path, url: str) -> None:
    args, env = _pg_args(url)
    proc = subprocess.run(
        [PG_RESTORE, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", *args, str(dump)],
        env=env, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pg_restore failed ({proc.returncode}): {proc.stderr.strip()}")


def _restore_photos(src: Path, store, files: dict[str, dict]) -> None:
    if not isinstance(store, LocalFileStorage):
        for rel in files:  # an object store: a PUT is atomic, and the key is the content's hash
            data = (src / rel).read_bytes()
            if store.put(data) != rel.rsplit("/", 1)[-1] or content_key(data) != files[rel]["sha256"]:
                raise RuntimeError(f"photo {rel} changed while restoring")
        return
    root = store.root
    root.mkdir(parents=True, exist_ok=True)
    for rel, info in files.items():
        out = root / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        # Temp file then rename: a crash never leaves half a photo under its key.
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".restore-")
        os.close(fd)
        shutil.copyfile(src / rel, tmp)
        os.replace(tmp, out)
        if _sha256(out) != info["sha256"]:
            raise RuntimeError(f"photo {rel} changed while restoring")


def _check_counts(url: str, expected: dict[str, int]) -> None:
    eng = create_engine(_sa_url(url))
    try:
        with eng.connect() as conn:
            got = _count_rows(conn, [t for t in expected if t in set(_user_tables(conn))])
    finally:
        eng.dispose()
    wrong = {t: (n, got.get(t)) for t, n in expected.items() if got.get(t) != n}
    if wrong:
        raise RuntimeError(f"restored row counts differ from the manifest: {wrong}")

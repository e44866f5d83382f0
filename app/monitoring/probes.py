"""What /readyz and /metrics ask: plain functions of the config, no request.

Readiness: the database answers, its schema is at the migrations' head, the photo store takes a
write. Gauges: a fixed number of statements (4) whatever the number of labs, tickets or photos
(tests/monitoring/test_metrics.py holds it); they read other domains' tables read-only, as reports do."""
from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import case, func, select, text

from app.extensions import db
from app.jobs.models import NightlyRun
from app.notifications.models import OutboxEmail
from app.photos.models import Photo
from app.photos.storage import storage_for
from app.tickets.models import RectificationTicket, TicketLevel, TicketState
from app.timeutil import school_today, utcnow

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def migration_heads() -> frozenset[str]:
    return frozenset(_script().get_heads())


def _known_revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in _script().walk_revisions())


def check_database() -> str | None:
    """None when the database answers and its schema is at head; else why not (one line)."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                current = frozenset(conn.scalars(text("SELECT version_num FROM alembic_version")).all())
            except Exception:  # noqa: BLE001 (no such table: never migrated; the probe says so, never 500)
                return "database schema was never migrated (no alembic_version table): run `flask db upgrade`"
    except Exception as exc:  # noqa: BLE001 (any driver error means not ready)
        return f"database unreachable: {type(exc).__name__}"
    heads = migration_heads()
    if current == heads:
        return None
    if current and not current <= _known_revisions():
        # A newer release migrated first (a rolling upgrade): this code's queries still work on an
        # expanded schema, so the host stays in the pool until it is upgraded itself.
        return None
    return (f"migrations behind: database at {', '.join(sorted(current)) or 'none'}, "
            f"code at {', '.join(sorted(heads))}: run `flask db upgrade`")


def check_photo_store(config) -> str | None:
    """None when the photo store takes a write; else why not. A store that knows how to check itself
    (check_writable) does; the local directory store gets a temporary file written, synced and removed
    (never a content-addressed key: that could be a photo's)."""
    store = storage_for(config)
    try:
        check = getattr(store, "check_writable", None)
        if check is not None:
            check()
            return None
        if not hasattr(store, "root"):
            # A store that is not a directory and cannot check itself: not a reason to stop serving.
            logging.getLogger(__name__).warning("readiness: %s has no check_writable; photo store unchecked",
                                                type(store).__name__)
            return None
        tmp = Path(store.root) / ".tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(dir=tmp, prefix="ready-")
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    except Exception as exc:  # noqa: BLE001 (any failure to write means not ready)
        return f"photo store not writable: {type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
    return None


def readiness(config) -> dict:
    """{"ready": bool, "checks": {name: "ok" | reason}}."""
    checks = {"database": check_database(), "photo_store": check_photo_store(config)}
    return {"ready": all(v is None for v in checks.values()),
            "checks": {k: (v or "ok") for k, v in checks.items()}}


_OUTBOX = select(
    func.count(),
    func.coalesce(func.sum(case((OutboxEmail.attempts > 0, 1), else_=0)), 0),
    func.min(OutboxEmail.created_at),
).where(OutboxEmail.sent_at.is_(None))
_NIGHTLY = select(func.max(NightlyRun.day), func.max(NightlyRun.finished_at)).where(NightlyRun.finished_at.is_not(None))
_PHOTOS = select(func.count(), func.coalesce(func.sum(Photo.byte_size), 0),
                 func.coalesce(func.sum(Photo.camera_original_bytes), 0))


def _tickets(now: datetime):
    return (
        select(RectificationTicket.level, func.count(),
               func.coalesce(func.sum(case((RectificationTicket.deadline < now, 1), else_=0)), 0))
        .where(RectificationTicket.state != TicketState.closed)
        .group_by(RectificationTicket.level)
    )


def _unix(naive_utc: datetime | None) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp() if naive_utc is not None else 0.0


def gauges(config, now: datetime | None = None) -> dict:
    """The database's gauges for one scrape: 4 statements."""
    now = now or utcnow()
    pending, failing, oldest = db.session.execute(_OUTBOX).one()
    last_day, last_finished = db.session.execute(_NIGHTLY).one()
    photos, photo_bytes, camera_bytes = db.session.execute(_PHOTOS).one()
    open_by_level = {level.value: 0 for level in TicketLevel}
    overdue_by_level = dict(open_by_level)
    for level, count, overdue in db.session.execute(_tickets(now)):
        key = getattr(level, "value", level)
        open_by_level[key] = count
        overdue_by_level[key] = overdue
    # The last school day that is over is yesterday (school time); a job that never ran is one day behind.
    yesterday = school_today(config["SCHOOL_TIMEZONE"], now.replace(tzinfo=UTC)).toordinal() - 1
    behind = max(0, yesterday - last_day.toordinal()) if last_day is not None else 1
    return {
        "outbox_pending": pending,
        "outbox_failing": failing,
        "outbox_oldest_age_seconds": max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        "nightly_last_success": _unix(last_finished),
        "nightly_days_behind": behind,
        "photos": photos,
        "photo_bytes": photo_bytes,
        "camera_original_bytes": camera_bytes,
        "open_tickets": open_by_level,
        "overdue_tickets": overdue_by_level,
    }

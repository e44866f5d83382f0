"""Every document of a month or a round as one ZIP, streamed (issue 23): the list of documents is read
first (no bytes), then each document's bytes one at a time, each written as a ZIP entry and handed to
the response before the next is read. Memory holds one document, never the archive.

One SELECT of the bytes per document: a server-side cursor would read them in one statement, but on
PostgreSQL a read request runs in autocommit (app/db), where such a cursor does not live, and on
SQLite a row is read whole anyway. A manifest (manifest.csv) comes first: number, kind, language,
lab, SHA-256, size, when issued, what it replaces, the entry's name."""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select

from app.extensions import db
from app.org import services as org
from app.policy import Action
from app.rounds import services as rounds
from app.spreadsheet import csv_text
from app.tickets.models import RectificationTicket
from app.timeutil import add_months, day_bounds_utc

from .models import IssuedDocument

D = IssuedDocument
MANIFEST = "manifest.csv"
MANIFEST_HEADER = ("file", "number", "kind", "language", "lab", "sha256", "byte_size", "issued_at_utc",
                   "replaces")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name any unzip and any browser take as it is (ASCII letters, digits, . _ -)."""
    return _UNSAFE.sub("_", name)


@dataclass(frozen=True)
class Entry:
    """A document as the ZIP lists it (its bytes are read when its turn comes)."""

    id: int
    number: str
    kind: str
    language: str
    lab_code: str
    sha256: str
    byte_size: int
    issued_at: datetime
    replaces: str

    @property
    def file(self) -> str:
        # Number first (unique, and sorts as filed), then what it is and whose.
        parts = [self.number, self.kind] + ([self.lab_code] if self.lab_code else [])
        return safe_name("_".join(parts)) + ".pdf"


def _entries(where) -> list[Entry]:
    rows = db.session.execute(
        select(D.id, D.number, D.kind, D.language, D.lab_id, D.sha256, D.byte_size, D.issued_at, D.replaces_id)
        .where(*where).order_by(D.issued_at, D.id)
    ).all()
    codes = org.lab_codes(r.lab_id for r in rows)
    replaced = {r.replaces_id for r in rows} - {None}
    numbers = dict(db.session.execute(select(D.id, D.number).where(D.id.in_(replaced))).all()) if replaced else {}
    return [Entry(r.id, r.number, r.kind.value, r.language, codes.get(r.lab_id, ""), r.sha256, r.byte_size,
                  r.issued_at, numbers.get(r.replaces_id, "")) for r in rows]


def month_entries(user, college_id: int, month: date, config) -> list[Entry]:
    """A college's documents issued in a school-local month: its labs' (whoever inspected: the school's
    rounds too) and its own monthly summaries."""
    tz = config["SCHOOL_TIMEZONE"]
    start, end = day_bounds_utc(month, tz)[0], day_bounds_utc(add_months(month, 1), tz)[0]
    labs = org.lab_ids_select(user, Action.DOWNLOAD_DOCUMENTS_BULK, college_id)
    return _entries([D.issued_at >= start, D.issued_at < end,
                     D.lab_id.in_(labs) | (D.lab_id.is_(None) & (D.college_id == college_id))])


def round_entries(user, round_id: int) -> list[Entry]:
    """The documents filed of the inspections that count in a round, and of the tickets they opened (the
    written reports of their major or cannot-fix hazards, the replies of their verified fixes), of the
    labs this user may reach (a college leader: their college's part of a school round)."""
    labs = org.lab_ids_select(user, Action.DOWNLOAD_DOCUMENTS_BULK)
    counted = rounds.counted_inspections(round_id)
    tickets = select(RectificationTicket.id).where(RectificationTicket.inspection_id.in_(counted))
    return _entries([D.inspection_id.in_(counted) | D.ticket_id.in_(tickets), D.lab_id.in_(labs)])


def manifest(entries: list[Entry]) -> bytes:
    rows = [MANIFEST_HEADER] + [
        (e.file, e.number, e.kind, e.language, e.lab_code, e.sha256, e.byte_size,
         e.issued_at.isoformat() + "Z", e.replaces) for e in entries]
    return csv_text(rows).encode("utf-8")


class _Pipe:
    """The file zipfile writes to: keeps what was written until the generator takes it. Not seekable,
    so zipfile writes each entry's sizes after its data (a data descriptor) and never goes back."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.offset = 0

    def write(self, data) -> int:
        self.chunks.append(data if isinstance(data, bytes) else bytes(data))  # never a buffer zipfile reuses
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def take(self) -> list[bytes]:
        out, self.chunks = self.chunks, []
        return out


def _info(name: str, when: datetime, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def stream_zip(entries: list[Entry], now: datetime, engine) -> Iterator[bytes]:
    """The ZIP, a piece per entry: the manifest, then each document's stored bytes as issued (stored,
    not deflated: a PDF is compressed already). It runs after the view has returned, on a connection of
    its own from ``engine`` (no request or app context needed: what it reads never changes, art. 30)."""
    pipe = _Pipe()
    by_id = select(D.pdf).where(D.id == bindparam("id"))
    with engine.connect() as conn, zipfile.ZipFile(pipe, "w") as zf:
        zf.writestr(_info(MANIFEST, now, zipfile.ZIP_DEFLATED), manifest(entries))
        yield from pipe.take()
        for e in entries:
            zf.writestr(_info(e.file, e.issued_at, zipfile.ZIP_STORED), conn.scalar(by_id, {"id": e.id}))
            yield from pipe.take()  # the entry's header, its bytes as stored (not copied), its sizes
    yield from pipe.take()  # the central directory

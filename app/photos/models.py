"""Photo evidence: originals kept byte-for-byte with their SHA-256."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class Photo(db.Model):
    """One uploaded photo, named by the client's UUID so a retried upload is recognised."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the original bytes
    media_type: Mapped[str] = mapped_column(String(40))  # decided by decoding, never by name
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime | None] = mapped_column(DateTime)  # from EXIF when present
    original_key: Mapped[str] = mapped_column(String(200))
    display_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The camera's own file, when the school keeps them (PHOTO_CAMERA_ORIGINALS): the phone sends
    # it after the downscaled photo above, on Wi-Fi or when charging. Set once, never replaced.
    camera_original_key: Mapped[str | None] = mapped_column(String(200))
    camera_original_sha256: Mapped[str | None] = mapped_column(String(64))
    camera_original_bytes: Mapped[int | None] = mapped_column(Integer)
    camera_original_type: Mapped[str | None] = mapped_column(String(40))  # decided by its header
    camera_original_at: Mapped[datetime | None] = mapped_column(DateTime)  # when it arrived

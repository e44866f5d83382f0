"""Hand-drawn signatures (issue 23; art. 28): a PNG drawn on a canvas, sent as a data URL, checked and
re-encoded before it is stored. Shared by the inspection's signatures (inspections) and the ticket's
(tickets: the reply slip signed at the fix and at its verification), which sit above this module."""
from __future__ import annotations

import base64
import binascii
import io
from datetime import UTC, datetime

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Boolean, DateTime, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

PNG_DATA_URL = "data:image/png;base64,"
SIGNATURE_NAME_MAX = 100
REFUSAL_REASON_MAX = 200
SIGNATURE_PNG_MAX = 150 * 1024  # decoded bytes; a hand-drawn signature is a few kB
# The data URL's base64 text of the largest PNG allowed, and its prefix.
SIGNATURE_DATA_URL_MAX = len(PNG_DATA_URL) + 4 * (SIGNATURE_PNG_MAX // 3 + 1)
SIGNATURE_MAX_PIXELS = 2000 * 2000  # a phone's canvas at 3x; more is not a signature


def signature_png(image: str) -> bytes:
    """The PNG of a signature's data URL, decoded, checked to be a real PNG of sane size and
    re-encoded by Pillow (nothing the phone sent is stored as it came). ValueError says why not."""
    if not image.startswith(PNG_DATA_URL):
        raise ValueError(_("A signature must be a PNG image (data:image/png;base64,...)."))
    try:
        raw = base64.b64decode(image[len(PNG_DATA_URL):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(_("The signature image is not valid base64.")) from None
    if len(raw) > SIGNATURE_PNG_MAX:
        raise ValueError(_("The signature image is too large (at most %(kb)d KB).", kb=SIGNATURE_PNG_MAX // 1024))
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format != "PNG" or probe.width * probe.height > SIGNATURE_MAX_PIXELS:
                raise ValueError(_("The signature image is not a PNG of a sane size."))
            probe.verify()
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            out = io.BytesIO()
            img.convert("RGBA").save(out, format="PNG")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValueError(_("The signature image is not a readable PNG.")) from None
    return out.getvalue()


# ---- the signature as sent (JSON or a page's form) ----------------------------------------------

def no_nul(value: str) -> None:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it as input, not as a 500
        raise ValidationError(_("Text may not contain NUL characters."))


def sane_time(value) -> None:
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationError(_("Not a plausible time.")) from None
    if not 2000 <= utc.year <= 2100:
        raise ValidationError(_("Not a plausible time."))


class SignatureSchema(Schema):
    """One signer's signature (a PNG drawn on a canvas), or their refusal to sign with a reason."""

    name = fields.String(load_default="", validate=[validate.Length(max=SIGNATURE_NAME_MAX), no_nul])
    image = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=SIGNATURE_DATA_URL_MAX),
                          metadata={"description": "data:image/png;base64,... (at most 150 KB of PNG)"})
    signed_at = fields.AwareDateTime(load_default=None, allow_none=True, validate=sane_time)
    refused = fields.Boolean(load_default=False, metadata={"description": "the signer refused to sign"})
    reason = fields.String(load_default="", validate=[validate.Length(max=REFUSAL_REASON_MAX), no_nul],
                           metadata={"description": "why the signer refused (required with refused)"})

    @validates_schema
    def _signed_or_refused(self, data, **kwargs):
        if data.get("refused"):
            if not (data.get("reason") or "").strip():
                raise ValidationError(_("A refusal to sign needs a reason."), "reason")
            if data.get("image"):
                raise ValidationError(_("A refusal to sign carries no signature image."), "image")
        else:
            if not data.get("image"):
                raise ValidationError(_("A signature needs its image (or a refusal with a reason)."), "image")
            if not (data.get("name") or "").strip():
                raise ValidationError(_("A signature needs the signer's name."), "name")


class SignatureColumns:
    """A stored signature's columns (a mixin of the inspection's and the ticket's signature tables)."""

    name: Mapped[str] = mapped_column(String(SIGNATURE_NAME_MAX), default="")
    png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # re-encoded by the server; None: refused
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)  # on the device
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(REFUSAL_REASON_MAX), default="")

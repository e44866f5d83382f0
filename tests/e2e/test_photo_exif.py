"""static/js/photo.js run in Chromium: the re-encoded JPEG keeps the camera's capture time (the
server's pipeline, app/photos/pipeline.py, reads captured_at from it) and is upright with
Orientation 1, so nothing turns it twice. Here, not in tests/photos, for the session's Chromium."""
from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from app.photos import pipeline
from bench.photo_sizing import chromium_encoder
from tests.factories import photo_bytes


@pytest.fixture
def encode(browser):
    enc, close = chromium_encoder(browser)  # static/js/photo.js's downscale() in /usr/bin/chromium
    yield enc
    close()


def test_a_downscaled_photo_keeps_its_capture_time_and_is_upright(encode):
    # Stored landscape 2400x1800 with Orientation 6: shown portrait 1800x2400.
    original = photo_bytes((2400, 1800), noise=True, orientation=6, gps=True, taken="2026:11:20 10:11:12")
    out = encode(original, 1600, 0.6)
    assert out[:2] == b"\xff\xd8" and out != original and len(out) < len(original)
    im = Image.open(io.BytesIO(out))
    assert im.size == (1200, 1600)  # drawn upright by the canvas
    exif = im.getexif()
    assert exif.get(0x0112) == 1  # so the pipeline does not turn it again
    assert exif.get_ifd(0x8769)[0x9003] == "2026:11:20 10:11:12"
    processed = pipeline.process(out, tz_name="Asia/Shanghai")
    assert processed.captured_at.isoformat() == "2026-11-20T02:11:12"
    assert (processed.width, processed.height) == (1200, 1600)


def test_a_small_light_jpeg_is_kept_byte_for_byte(encode):
    small = photo_bytes((1200, 900), taken="2026:11:20 10:11:12")  # flat colours: few bytes a pixel
    assert encode(small, 2048, 0.6) == small


def _camera_exif(thumb: bytes) -> bytes:
    """A camera's APP1 payload (big-endian TIFF) as phones lay it out: IFD0 (Make, Orientation 6,
    the Exif IFD), the Exif IFD (DateTimeOriginal), then IFD1 and its thumbnail JPEG at the end."""
    def entry(tag, typ, count, value: bytes) -> bytes:
        return struct.pack(">HHI", tag, typ, count) + value.ljust(4, b"\0")

    make, taken = b"Xiaomi\0\0", b"2026:11:20 10:11:12\0"
    ifd0, make_at = 8, 8 + 2 + 3 * 12 + 4
    exif_ifd = make_at + len(make)
    taken_at = exif_ifd + 2 + 12 + 4
    ifd1 = taken_at + len(taken)
    thumb_at = ifd1 + 2 + 2 * 12 + 4
    tiff = b"MM\0*" + struct.pack(">I", ifd0)
    tiff += struct.pack(">H", 3) + entry(0x010F, 2, 7, struct.pack(">I", make_at)) + entry(0x0112, 3, 1, b"\0\x06")
    tiff += entry(0x8769, 4, 1, struct.pack(">I", exif_ifd)) + struct.pack(">I", ifd1) + make
    tiff += struct.pack(">H", 1) + entry(0x9003, 2, 20, struct.pack(">I", taken_at)) + b"\0\0\0\0" + taken
    tiff += struct.pack(">H", 2) + entry(0x0201, 4, 1, struct.pack(">I", thumb_at))
    tiff += entry(0x0202, 4, 1, struct.pack(">I", len(thumb))) + b"\0\0\0\0" + thumb
    return b"Exif\0\0" + tiff


def test_the_cameras_embedded_thumbnail_is_dropped_and_the_rest_kept(encode):
    thumb = photo_bytes((160, 120), noise=True)
    im = Image.effect_noise((2400, 1800), 60).convert("RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92, exif=_camera_exif(thumb))
    original = buf.getvalue()
    assert thumb in original and Image.open(io.BytesIO(original)).getexif().get(0x0112) == 6

    out = encode(original, 1600, 0.6)
    assert thumb not in out  # 10-60 kB a camera photo that nobody looks at
    exif = Image.open(io.BytesIO(out)).getexif()
    assert exif.get(0x0112) == 1 and exif.get(0x010F) == "Xiaomi"
    assert exif.get_ifd(0x8769)[0x9003] == "2026:11:20 10:11:12"
    assert pipeline.process(out).captured_at.isoformat() == "2026-11-20T02:11:12"
    assert Image.open(io.BytesIO(out)).size == (1200, 1600)

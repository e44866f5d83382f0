"""static/js/photo.js run in Chromium: the re-encoded JPEG keeps the camera's capture time (the
pipeline reads captured_at from it) and is upright with Orientation 1, so nothing turns it twice."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from app.photos import pipeline
from bench.photo_sizing import chromium_encoder
from tests.factories import photo_bytes


@pytest.fixture(scope="module")
def encode():
    enc, close = chromium_encoder()  # static/js/photo.js's downscale() in /usr/bin/chromium
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

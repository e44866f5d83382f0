"""Decoding is bounded by what a phone photo is: format and pixel mode, pixels per format, bytes per
megapixel, and decodes at once per process (app/photos/pipeline.py). Each refusal comes from the
header, before a pixel is decoded, and leaves nothing behind."""
from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from app.errors import Busy, InvalidInput, TooLarge, UnsupportedMedia
from app.photos import pipeline
from tests.factories import login, photo_bytes
from tests.factories.inspections import make_small_world, new_uuid

from .test_pipeline import png_with_declared_size
from .test_upload import photo_count, put


def _saved(im: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kwargs)
    return out.getvalue()


def one_bit_png(width: int, height: int) -> bytes:
    """A decompression bomb: a blank 1-bit PNG, a few kB for tens of megapixels."""
    return _saved(Image.new("1", (width, height), 0), "PNG")


def test_the_reviewed_bomb_is_refused_from_its_header():
    data = one_bit_png(8000, 7990)  # 63.9 MP in ~8 kB: accepted by the old 64 MP limit
    assert len(data) < 10_000
    with pytest.raises(TooLarge):
        pipeline.process(data)


def test_a_one_bit_image_is_no_photo_whatever_its_size():
    with pytest.raises(UnsupportedMedia) as err:
        pipeline.process(one_bit_png(2000, 1500))
    assert "1" in err.value.message


def test_far_fewer_bytes_than_a_photo_has_are_refused():
    blank = _saved(Image.new("L", (3000, 2500), 0), "PNG")  # 7.5 MP in ~7 kB: ~1 kB per megapixel
    with pytest.raises(InvalidInput) as err:
        pipeline.process(blank)
    assert "7.5" in err.value.message
    # A camera JPEG cannot get that small: even a flat grey frame is ~15 kB per megapixel.
    flat = _saved(Image.new("RGB", (3000, 2500), (128, 128, 128)), "JPEG", quality=85)
    assert pipeline.process(flat).thumb


@pytest.mark.parametrize("fmt, size", [("PNG", (3000, 3000)), ("WEBP", (3000, 3000)), ("HEIF", (300, 300))])
def test_formats_decoded_in_full_have_fewer_pixels_than_jpeg(fmt, size, monkeypatch):
    if fmt == "HEIF":  # encoding 25 MP of HEIC takes half a minute: the same rule, scaled down
        monkeypatch.setitem(pipeline.FULL_DECODE_MAX_PIXELS, "HEIF", 250 * 250)
    # The pixels are checked before the bytes per megapixel: a flat image shows it cheaply.
    data = _saved(Image.new("RGB", size, (90, 120, 150)), fmt)
    with pytest.raises(TooLarge) as err:
        pipeline.process(data)
    assert err.value.details["max_pixels"] == pipeline.FULL_DECODE_MAX_PIXELS[fmt]


def test_a_fifty_megapixel_camera_jpeg_is_accepted_and_decoded_reduced():
    data = photo_bytes((8160, 6120))  # the largest binned sensors (50 MP)
    p = pipeline.process(data)
    assert max(p.decoded_size) <= 2 * 1600  # draft: never the full frame
    with pytest.raises(TooLarge):
        pipeline.process(png_with_declared_size(8200, 6200))  # 50.8 MP


def test_a_decode_waits_for_a_slot_then_the_server_is_busy():
    slots = pipeline._slots(1)
    data = photo_bytes((64, 48))
    assert slots.acquire(timeout=5)
    try:
        with pytest.raises(Busy):
            pipeline.process(data, decode_slots=1, decode_wait_seconds=0.05)
        # A slot freed while waiting is taken.
        threading.Timer(0.1, slots.release).start()
        assert pipeline.process(data, decode_slots=1, decode_wait_seconds=5).thumb
    finally:
        if slots.acquire(blocking=False):
            slots.release()


def test_upload_of_the_bomb_is_413_and_a_busy_server_is_503_with_nothing_stored(app, client, files):
    w = make_small_world()
    login(client, w.inspector_a)
    r = put(client, new_uuid(), one_bit_png(8000, 7990), filename="bomb.png", content_type="image/png")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    app.config["PHOTO_DECODE_WAIT_SECONDS"] = 0.05
    slots = pipeline._slots(app.config["PHOTO_DECODE_SLOTS"])
    assert slots.acquire(timeout=5)
    try:
        r = put(client, new_uuid(), photo_bytes((64, 48)))
    finally:
        slots.release()
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.get_json()["error"]["code"] == "busy"
    assert photo_count() == 0 and files() == []
    assert put(client, new_uuid(), photo_bytes((64, 48))).status_code == 201

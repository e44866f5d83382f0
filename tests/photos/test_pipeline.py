"""The pipeline on real image bytes: type by decoding, orientation, metadata stripped, draft."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from app.errors import InvalidInput, TooLarge, UnsupportedMedia
from app.photos import pipeline
from tests.factories import photo_bytes


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb, cheaply."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # A few rows' worth of zeros; a decoder would expand it to width*height*3 bytes.
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_jpeg_is_oriented_and_stripped_of_every_metadata():
    # Stored landscape 80x40 (left half red); orientation 6 = rotate 90° clockwise to display.
    data = photo_bytes((80, 40), orientation=6, gps=True, taken="2026:11:20 10:11:12")
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the input really has GPS
    p = pipeline.process(data)
    assert (p.width, p.height) == (40, 80)
    assert p.media_type == "image/jpeg"
    for blob in (p.display, p.thumb):
        im = _open(blob)
        assert im.format == "JPEG"
        assert im.size[0] < im.size[1]  # portrait after orientation
        assert len(im.getexif()) == 0 and not im.getexif().get_ifd(0x8825)
        assert "exif" not in im.info and "icc_profile" not in im.info and "comment" not in im.info
        assert b"Exif" not in blob and b"GPS" not in blob
    disp = _open(p.display)
    # Rotated clockwise, the red left half is now the top half.
    top = disp.getpixel((disp.width // 2, 2))
    bottom = disp.getpixel((disp.width // 2, disp.height - 3))
    assert top[0] > 150 and top[1] < 100 and bottom[1] > 200


def test_capture_time_from_exif_read_as_school_time():
    p = pipeline.process(photo_bytes(taken="2026:11:20 10:11:12"), tz_name="Asia/Shanghai")
    assert p.captured_at.isoformat() == "2026-11-20T02:11:12"  # UTC, stored naive
    assert pipeline.process(photo_bytes()).captured_at is None


def test_png_and_webp_with_alpha_are_accepted_and_flattened():
    im = Image.new("RGBA", (50, 30), (0, 0, 255, 128))
    for fmt, media in (("PNG", "image/png"), ("WEBP", "image/webp")):
        out = io.BytesIO()
        im.save(out, fmt)
        p = pipeline.process(out.getvalue())
        assert p.media_type == media
        assert _open(p.display).mode == "RGB"


def test_heic_is_accepted():
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(out, "HEIF")
    p = pipeline.process(out.getvalue())
    assert p.media_type == "image/heic"
    assert (p.width, p.height) == (64, 48)
    # An oriented HEIC is turned once (the plugin applies it and resets the tag), not twice.
    im = Image.new("RGB", (80, 40), (255, 255, 255))
    im.paste((200, 30, 30), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    im.save(out, "HEIF", exif=exif.tobytes())
    p = pipeline.process(out.getvalue())
    disp = _open(p.display)
    assert (p.width, p.height) == disp.size == (40, 80)
    assert disp.getpixel((20, 2))[1] < 100 and disp.getpixel((20, 77))[1] > 200


def test_icc_profile_never_leaves():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (1, 2, 3)).save(out, "JPEG", icc_profile=icc)
    p = pipeline.process(out.getvalue())
    assert "icc_profile" not in _open(p.display).info and "icc_profile" not in _open(p.thumb).info


def test_large_jpeg_is_decoded_reduced_with_its_own_aspect_ratio():
    # 4000x3000 stored sideways (orientation 6): the box is the stored shape, so the decoder
    # halves it (2000x1500) instead of decoding all 12 MP.
    data = photo_bytes((4000, 3000), orientation=6)
    p = pipeline.process(data)
    assert p.decoded_size == (2000, 1500)
    assert p.display_size == (1200, 1600)
    assert (p.width, p.height) == (3000, 4000)
    assert max(_open(p.thumb).size) == 320


@pytest.mark.parametrize(
    "data, error",
    [
        (b"this is a text file, not a photo\n" * 10, UnsupportedMedia),
        (bytes(range(256)) * 40, UnsupportedMedia),
        (b"<html><script>alert(1)</script></html>", UnsupportedMedia),
        (b"GIF89a" + b"\x00" * 100, UnsupportedMedia),  # a real image type, but not a photo we take
    ],
)
def test_not_a_photo_is_unsupported(data, error):
    with pytest.raises(error):
        pipeline.process(data)


def test_truncated_jpeg_is_refused():
    data = photo_bytes((400, 300), noise=True)
    with pytest.raises(InvalidInput):
        pipeline.process(data[: len(data) // 2])


def test_bombs_are_refused_before_decoding():
    # Far over: Pillow's own error. Just over the limit: Pillow only warns; we refuse.
    with pytest.raises(TooLarge):
        pipeline.process(png_with_declared_size(100_000, 100_000))
    with pytest.raises(TooLarge):
        pipeline.process(png_with_declared_size(9_000, 9_000), max_pixels=64_000_000)  # 81 MP
    with pytest.raises(TooLarge):
        pipeline.process(photo_bytes((200, 200)), max_pixels=30_000)  # our own header check


def test_unusual_modes_become_plain_rgb():
    for im, fmt in (
        (Image.new("RGB", (120, 60), (200, 50, 50)).convert("CMYK"), "JPEG"),
        (Image.new("I;16", (120, 60), 30000), "PNG"),  # 16-bit grey: scaled, not clipped to white
        (Image.new("RGB", (120, 60), (200, 50, 50)).convert("P"), "PNG"),
    ):
        out = io.BytesIO()
        im.save(out, fmt)
        disp = _open(pipeline.process(out.getvalue()).display)
        assert disp.mode == "RGB" and disp.getpixel((5, 5)) != (255, 255, 255)

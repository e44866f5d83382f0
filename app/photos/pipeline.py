"""The photo pipeline: decide the type by decoding, refuse bombs before decoding, decode once
(reduced-size for JPEG), orient, and make a display image and a thumbnail with no metadata.

What may be decoded is bounded by what a phone photo is, read from the header before any pixel
is decoded (bench.photo_pipeline --bounds measures the worst accepted input; docs/PERFORMANCE.md):
- the format and pixel mode: JPEG, HEIC, PNG, WebP in 8 or 16 bits a sample; never 1-bit;
- the pixels, per format: a JPEG is decoded reduced (draft) to about the display size, so a
  50 MP camera JPEG (the largest binned sensors) is cheap; HEIC, PNG and WebP are decoded in full,
  so HEIC stops at the 24 MP iPhones write by default and PNG/WebP at a 4K screenshot;
- the bytes per megapixel: every camera file carries sensor noise and JPEG cannot go below
  ~11 kB/MP, while a bomb is a few bytes of zeros (a 64 MP 1-bit PNG is 7.8 kB: 0.12 kB/MP);
- how many decode at once in this process (``decode_slot``): the rest wait their turn briefly.

Plain Python and Pillow; no Flask. Errors are app.errors classes with messages a person reads.
"""
from __future__ import annotations

import io
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from app.errors import Busy, InvalidInput, TooLarge, UnsupportedMedia

try:  # HEIC from iPhones; the plugin is maintained and installs as a wheel.
    import pillow_heif

    pillow_heif.register_heif_opener()
    _HEIF = True
except ImportError:  # pragma: no cover - the plugin is in requirements.txt
    _HEIF = False

# Pillow format name -> the media type we serve the original with. MPO is what Pillow calls
# JPEGs with a multi-picture index (many phones write them); it is still a JPEG file.
MEDIA_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}
# (MPO has no opener of its own: the JPEG opener returns it.)
_OPEN_FORMATS = [f for f in MEDIA_TYPES if f != "MPO" and (f != "HEIF" or _HEIF)]

# Pixel modes a photo or a screenshot comes in: 8 bits a sample (grey, palette, colour, with or
# without alpha; CMYK from print workflows) or 16-bit grey. Not 1-bit ("1": a scan or a fax,
# eight pixels a byte, the cheapest bomb) nor 32-bit integer or float samples.
PHOTO_MODES = frozenset({"L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I;16", "I;16B", "I;16L", "I;16N"})
# Pixels per format beyond the overall cap (PHOTO_MAX_PIXELS, for JPEG: decoded reduced). Decoded
# in full, these cost ~7 bytes of memory a pixel at their peak (bench.photo_pipeline --bounds).
FULL_DECODE_MAX_PIXELS = {
    "HEIF": 24_500_000,  # iPhone 15 and later: 5712 x 4284 by default; 48 MP "HEIF Max" is opt-in
    "PNG": 8_300_000,  # a screenshot of a 4K screen (3840 x 2160); phones' are < 5 MP
    "WEBP": 8_300_000,
}
# Fewer bytes than this per megapixel is no camera file: JPEG's own floor is ~11,000 (a flat grey
# frame), a dark noisy HEIC ~9,000, a white phone screenshot as PNG ~7,000; a bomb is far below.
MIN_BYTES_PER_MEGAPIXEL = 4_000

# A bomb warning is a refusal everywhere in this process, not only inside process(): the
# catch_warnings() below is not thread-safe, so the process-wide filter is what threads rely on
# (and open_checked's own pixel check refuses the same images even if a filter were lost).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
DATETIME = 0x0132
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
# EXIF orientation -> the transpose that shows the picture upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass
class ProcessedPhoto:
    media_type: str  # of the original
    width: int  # of the original, as displayed (after orientation)
    height: int
    captured_at: datetime | None  # naive UTC
    display: bytes  # JPEG, metadata-free
    thumb: bytes  # JPEG, metadata-free
    display_size: tuple[int, int]
    decoded_size: tuple[int, int]  # what the decoder actually produced (draft), for the bench


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, long_side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _capture_time(exif: Image.Exif, tz_name: str) -> datetime | None:
    """EXIF DateTimeOriginal (camera local time), with its offset when the camera wrote one;
    otherwise read as school-local time. Returned as naive UTC like every stored time."""
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:  # a broken EXIF block is not a reason to refuse the photo
        sub = {}
    raw = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if not raw:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    try:
        local = datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(OFFSET_TIME_ORIGINAL)
    tz = None
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            delta = timedelta(hours=hours, minutes=minutes)
            tz = timezone(delta if offset[0] == "+" else -delta)
        except ValueError:
            tz = None
    aware = local.replace(tzinfo=tz or ZoneInfo(tz_name))
    return aware.astimezone(UTC).replace(tzinfo=None)


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Strip the ICC profile without shifting colours: convert to sRGB first (on the small image)."""
    if not icc:
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:  # an unusable profile: keep the pixels as they are
        return im


def _jpeg(im: Image.Image, quality: int) -> bytes:
    # A fresh image with no info dict: no EXIF, GPS, ICC, comment or XMP can ride along.
    clean = Image.new("RGB", im.size)
    clean.paste(im)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=quality, optimize=False, progressive=False)
    return out.getvalue()


def _too_many_pixels(max_pixels: int) -> TooLarge:
    return TooLarge(_("The image has too many pixels to be a photo (at most %(mp)d megapixels).",
                      mp=max_pixels // 1_000_000), {"max_pixels": max_pixels})


def open_checked(data: bytes, max_pixels: int, min_bytes_per_megapixel: int = MIN_BYTES_PER_MEGAPIXEL) -> Image.Image:
    """Open (header only) and refuse what is not a supported image, not a photo's pixel mode, more
    pixels than its format may have, or far more pixels than its bytes can hold in a photo."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        im = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except UnidentifiedImageError:
        raise UnsupportedMedia(
            _("This file is not a photo we can read. Please send a JPEG, PNG, WebP or HEIC image.")
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InvalidInput(_("The image file is damaged or incomplete; please take or send the photo again.")) from None
    w, h = im.size
    # Checked here, from the header, before any pixel is decoded.
    if w <= 0 or h <= 0 or w * h > max_pixels:
        raise _too_many_pixels(max_pixels)
    if im.mode not in PHOTO_MODES:
        raise UnsupportedMedia(_("This image is not a photo (its pixels are in %(mode)s mode). "
                                 "Please send the photo as the camera took it.", mode=im.mode))
    format_max = min(max_pixels, FULL_DECODE_MAX_PIXELS.get(im.format, max_pixels))
    if w * h > format_max:
        raise _too_many_pixels(format_max)
    if len(data) * 1_000_000 < min_bytes_per_megapixel * w * h:
        raise InvalidInput(_("This file claims %(mp).1f megapixels in only %(kb)d kB, which no photo does. "
                             "Please send the photo as the camera took it.",
                             mp=w * h / 1_000_000, kb=max(1, len(data) // 1000)))
    return im


def identify(data: bytes, *, max_pixels: int, min_bytes_per_megapixel: int = MIN_BYTES_PER_MEGAPIXEL) -> str:
    """The media type of a file kept as it is (a camera original), by the same header checks as
    process() and without decoding a pixel."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # a refusal, as in process()
        with open_checked(data, max_pixels, min_bytes_per_megapixel) as im:
            return MEDIA_TYPES[im.format]


# One set of decode slots per process and size (gunicorn forks workers: each has its own).
_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def _slots(count: int) -> threading.BoundedSemaphore:
    with _SLOTS_LOCK:
        if count not in _SLOTS:
            _SLOTS[count] = threading.BoundedSemaphore(count)
        return _SLOTS[count]


@contextmanager
def decode_slot(count: int, wait_seconds: float):
    """Hold one of this process's ``count`` decode slots: a decode is CPU and up to ~170 MB
    (docs/PERFORMANCE.md), so photos arriving together take turns instead of piling their memory
    up. A photo that cannot have a slot within ``wait_seconds`` is refused as the server being
    busy (503, Retry-After): the app's outbox sends it again, nothing is lost."""
    slots = _slots(count)
    if not slots.acquire(timeout=wait_seconds):
        raise Busy(_("The server is busy with other photos; nothing was saved. Try again in a moment."))
    try:
        yield
    finally:
        slots.release()


def process(
    data: bytes,
    *,
    max_pixels: int = 50_000_000,
    min_bytes_per_megapixel: int = MIN_BYTES_PER_MEGAPIXEL,
    display_size: int = 1600,
    thumb_size: int = 320,
    tz_name: str = "Asia/Shanghai",
    decode_slots: int = 1,
    decode_wait_seconds: float = 10.0,
) -> ProcessedPhoto:
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a warning is a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = open_checked(data, max_pixels, min_bytes_per_megapixel)
        with decode_slot(decode_slots, decode_wait_seconds):
            return _decode(im, max_pixels, display_size, thumb_size, tz_name)


def _decode(im: Image.Image, max_pixels: int, display_size: int, thumb_size: int,
            tz_name: str) -> ProcessedPhoto:
    """Decode and derive the display image and thumbnail (the costly part, in a decode slot)."""
    fmt = im.format
    try:
        exif = im.getexif()
    except Exception:
        exif = Image.Exif()
    orientation = exif.get(ORIENTATION, 1)
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1  # a nonsense tag: show the picture as stored rather than refuse it
    raw_w, raw_h = im.size
    # Orientations 5-8 turn the picture a quarter: width and height swap on display.
    shown = (raw_h, raw_w) if orientation in (5, 6, 7, 8) else (raw_w, raw_h)
    if fmt in ("JPEG", "MPO"):
        # The box must have the stored image's own aspect ratio (not the displayed one), or a
        # portrait photo stored sideways asks for more than it needs and decodes at full size.
        box = _fit((raw_w, raw_h), display_size)
        im.draft("RGB", box)
    # Evidence is whole or refused: a truncated file must fail here, whatever another library (WeasyPrint
    # sets it when imported) made of this process-wide Pillow setting.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError):
        raise InvalidInput(_("The image file is damaged or incomplete; please take or send the photo again.")) from None
    decoded_size = im.size
    icc = im.info.get("icc_profile")
    rgb = _to_rgb(im)
    # Shrink first, in the stored orientation, then turn the small image: turning 1600 px
    # costs a fraction of turning the decoded frame (ImageOps.exif_transpose semantics).
    if max(rgb.size) > display_size:
        small = rgb.resize(_fit(rgb.size, display_size), Image.Resampling.BICUBIC, reducing_gap=3.0)
    else:
        small = rgb
    method = _TRANSPOSE.get(orientation)
    display_img = small.transpose(method) if method is not None else small
    display_img = _to_srgb(display_img, icc)
    if max(display_img.size) > thumb_size:
        thumb_img = display_img.resize(
            _fit(display_img.size, thumb_size), Image.Resampling.LANCZOS, reducing_gap=2.0
        )
    else:
        thumb_img = display_img
    display = _jpeg(display_img, 85)
    thumb = _jpeg(thumb_img, 80)
    captured = _capture_time(exif, tz_name)
    return ProcessedPhoto(
        media_type=MEDIA_TYPES[fmt],
        width=shown[0],
        height=shown[1],
        captured_at=captured,
        display=display,
        thumb=thumb,
        display_size=display_img.size,
        decoded_size=decoded_size,
    )

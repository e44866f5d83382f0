"""The photo pipeline: decide the type by decoding, refuse bombs before decoding, decode once
(reduced-size for JPEG), orient, and make a display image and a thumbnail with no metadata.

Plain Python and Pillow; no Flask. Errors are app.errors classes with messages a person reads.
"""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from PIL import Image, ImageCms, UnidentifiedImageError

from app.errors import InvalidInput, TooLarge, UnsupportedMedia

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
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


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


def open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open (header only) and refuse what is not a supported image or too many pixels."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        im = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(_("The image has too many pixels to be a photo (at most %(mp)d megapixels).",
                         mp=max_pixels // 1_000_000))
    except UnidentifiedImageError:
        raise UnsupportedMedia(_("This file is not a photo we can read. Please send a JPEG, PNG, WebP or HEIC image."))
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InvalidInput(_("The image file is damaged or incomplete; please take or send the photo again."))
    w, h = im.size
    # Checked here, from the header, before any pixel is decoded.
    if w <= 0 or h <= 0 or w * h > max_pixels:
        raise TooLarge(_("The image has too many pixels to be a photo (at most %(mp)d megapixels).",
                         mp=max_pixels // 1_000_000))
    return im


def process(
    data: bytes,
    *,
    max_pixels: int = 64_000_000,
    display_size: int = 1600,
    thumb_size: int = 320,
    tz_name: str = "Asia/Shanghai",
) -> ProcessedPhoto:
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a warning is a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = open_checked(data, max_pixels)
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
        try:
            im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooLarge(_("The image has too many pixels to be a photo (at most %(mp)d megapixels).",
                             mp=max_pixels // 1_000_000))
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError):
            raise InvalidInput(_("The image file is damaged or incomplete; please take or send the photo again."))
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

"""Reading issued PDFs in tests: their text (pypdf) and page 1 as a picture (poppler's pdftoppm)."""
from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageStat
from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_pages(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def first_page_png(data: bytes) -> Image.Image:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "doc.pdf"
        src.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", "-singlefile", str(src),
                        str(Path(tmp) / "page")], check=True, timeout=60)
        with Image.open(Path(tmp) / "page.png") as img:
            return img.convert("L").copy()


def inked_fraction(img: Image.Image) -> float:
    """The share of the page's pixels that are not paper white."""
    hist = img.histogram()
    return 1 - sum(hist[240:]) / sum(hist)


def is_blank(img: Image.Image) -> bool:
    return ImageStat.Stat(img).stddev[0] < 1 or inked_fraction(img) < 0.005

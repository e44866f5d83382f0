"""Rasterise the QR SVG a page contains and decode it with a real decoder (zxing-cpp).

segno draws the dark modules as ONE path of horizontal 1-unit-wide strokes: "M x y" / "m dx dy"
moves to a module row's centre line, "h n" draws n modules. That is all this rasteriser needs;
it refuses anything else, so a change in the SVG shows up as a test failure, not a silent pass.
"""
from __future__ import annotations

import re

import zxingcpp
from PIL import Image, ImageDraw

SVG_RE = re.compile(r'<svg[^>]*class="qr"[^>]*>.*?</svg>', re.S)
VIEWBOX_RE = re.compile(r'viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"')
PATH_RE = re.compile(r'<path[^>]*class="qr-modules"[^>]*\bd="([^"]+)"')
TOKEN_RE = re.compile(r"([MmHhVv])\s*((?:-?\d+(?:\.\d+)?\s*)+)")


def extract_qr_svg(html: str) -> str:
    m = SVG_RE.search(html)
    assert m, "no QR <svg class=\"qr\"> in the page"
    return m.group(0)


def rasterise(svg: str, px_per_unit: int = 8) -> Image.Image:
    vb = VIEWBOX_RE.search(svg)
    assert vb, "QR SVG without a viewBox"
    width, height = float(vb.group(1)), float(vb.group(2))
    path = PATH_RE.search(svg)
    assert path, "QR SVG without its module path"
    assert "transform" not in svg, "unexpected transform in the QR SVG"
    img = Image.new("L", (int(width * px_per_unit), int(height * px_per_unit)), 255)
    draw = ImageDraw.Draw(img)
    x = y = 0.0
    d = path.group(1)
    consumed = "".join(TOKEN_RE.findall(d) and [t[0] + t[1] for t in TOKEN_RE.findall(d)])
    assert re.sub(r"\s", "", consumed) == re.sub(r"\s", "", d), f"unsupported path commands in {d[:80]}"
    for cmd, args in TOKEN_RE.findall(d):
        nums = [float(v) for v in args.split()]
        if cmd in "Mm":
            assert len(nums) == 2
            x, y = (nums[0], nums[1]) if cmd == "M" else (x + nums[0], y + nums[1])
        elif cmd in "Hh":
            assert len(nums) == 1
            x1 = nums[0] if cmd == "H" else x + nums[0]
            lo, hi = sorted((x, x1))
            draw.rectangle([lo * px_per_unit, (y - 0.5) * px_per_unit,
                            hi * px_per_unit - 1, (y + 0.5) * px_per_unit - 1], fill=0)
            x = x1
        else:  # Vv: a vertical 1-unit-wide stroke
            assert len(nums) == 1
            y1 = nums[0] if cmd == "V" else y + nums[0]
            lo, hi = sorted((y, y1))
            draw.rectangle([(x - 0.5) * px_per_unit, lo * px_per_unit,
                            (x + 0.5) * px_per_unit - 1, hi * px_per_unit - 1], fill=0)
            y = y1
    return img


def decode(svg: str) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(rasterise(svg))]

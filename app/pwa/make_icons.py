"""Generate the PWA icons (run from the repo root: .venv/bin/python -m app.pwa.make_icons); the PNGs are committed."""
from PIL import Image, ImageDraw

THEME = (16, 50, 79)
def icon(size, maskable):
    img = Image.new("RGBA", (size, size), THEME + (255,) if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if not maskable:
        r = size // 6
        d.rounded_rectangle([0, 0, size - 1, size - 1], radius=r, fill=THEME)
    s = size / 512
    # safe zone for maskable: central 80%; draw a shield with a check mark inside it
    cx = size / 2
    top, bottom, half = 130 * s, 400 * s, 120 * s
    shield = [(cx - half, top), (cx + half, top), (cx + half, top + 130 * s), (cx, bottom), (cx - half, top + 130 * s)]
    d.polygon(shield, fill=(255, 255, 255))
    w = max(4, int(28 * s))
    d.line(
        [(cx - 60 * s, 260 * s), (cx - 15 * s, 305 * s), (cx + 65 * s, 205 * s)],
        fill=(46, 125, 50),
        width=w,
        joint="curve",
    )
    return img
for size in (192, 512):
    icon(size, False).save(f"static/icons/icon-{size}.png", optimize=True)
    icon(size, True).save(f"static/icons/maskable-{size}.png", optimize=True)
icon(180, True).convert("RGB").save("static/icons/apple-touch-icon.png", optimize=True)

"""What size and JPEG quality the phone should send a photo at (static/js/photo.js).

    .venv/bin/python -m bench.photo_sizing                 # Pillow + Chromium, 3 photos
    .venv/bin/python -m bench.photo_sizing --no-chromium   # Pillow only
    .venv/bin/python -m bench.photo_sizing --upload-3g     # the upload itself on emulated 3G

Inputs: camera-like 12 MP JPEGs (4000x3000, quality 92, EXIF DateTimeOriginal): lighting, shelves
and bottles, sensor noise, and a photographed chemical label whose text comes in four sizes
(120, 64, 40, 28 and 20 px high in the original: a title, a hazard line, the body, the
precautions and the lot line; 8 px in the 1600 px display copy).
Generated once and cached under bench/out/.

For each long side (1600, 2048) and quality (0.6-0.9), the upload is encoded
- with Pillow (libjpeg, 4:2:0, the same quality scale as the browser's canvas encoder), and
- with headless Chromium running static/js/photo.js's downscale() (what phones run; /usr/bin/chromium);
then the server's pipeline makes its display copy from the upload, which is compared with the
display copy made from the full original (what the school sees today):
- bytes of the upload;
- mean absolute error (0-255, luma) and PSNR of the whole display copy;
- the label: Pearson correlation of each text line's crop with the reference's crop, and the
  smallest text size still at or above 0.95 (its strokes are where they were: legible where the
  reference is). Crops of lines that a worse encode smears fall first at the smallest size.

--upload-3g: the same photos through photo.js in Chromium on emulated 3G (bench.weak_signal's
DevTools profile: 400 kbps up, 300 ms latency), against LabSafe on 127.0.0.1 (demo university,
logged in as the demo inspector): today's upload (2048 px at 0.85, one multipart PUT) and the new
one (photo.js's defaults, upload.js's uploadPhoto). Per photo: its bytes, the milliseconds from
the request's start until the answer, and that time over the time its bytes need at 400 kbps.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import math
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
ROOT = Path(__file__).resolve().parent.parent
SIDES = (1600, 2048)
QUALITIES = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9)
FONT_SIZES = (120, 64, 40, 28, 20)  # px in the 4000x3000 original
LEGIBLE = 0.95  # correlation with the reference's crop that a text line must keep
TAKEN = "2026:11:20 10:11:12"


def make_photo(seed: int) -> tuple[bytes, list[tuple[int, tuple[int, int, int, int]]]]:
    """A camera-like 12 MP JPEG and the boxes (in original pixels) of its label's text lines."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rnd = random.Random(seed)
    w, h = 4000, 3000
    base = Image.effect_noise((40, 30), 80).convert("RGB").resize((w, h), Image.Resampling.BICUBIC)
    tint = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    im = Image.blend(base, tint, 0.35)
    draw = ImageDraw.Draw(im)
    for _ in range(200):  # shelves, bottles, boxes
        x, y = rnd.randrange(w), rnd.randrange(h)
        box = (x, y, x + rnd.randrange(20, 600), y + rnd.randrange(20, 400))
        fill = tuple(rnd.randrange(256) for _ in range(3))
        (draw.rectangle if rnd.random() < 0.6 else draw.ellipse)(box, fill=fill, outline=(20, 20, 20), width=3)
    # The label: an off-white card with black and red print.
    lx, ly = 900 + rnd.randrange(300), 700 + rnd.randrange(300)
    draw.rectangle((lx, ly, lx + 2100, ly + 1350), fill=(238, 236, 228), outline=(180, 30, 30), width=14)
    lines = [
        (120, "ACETONE  CAS 67-64-1", (20, 20, 20)),
        (64, "DANGER: Highly flammable liquid and vapour.", (170, 20, 20)),
        (40, "Causes serious eye irritation. May cause drowsiness or dizziness.", (20, 20, 20)),
        (28, "Keep away from heat, hot surfaces, sparks, open flames. No smoking. Store in a well-ventilated place.",
         (20, 20, 20)),
        (20, "Lot 2026-0417  Exp 2028-03  UN1090  Store below 25 C  Supplier: Sinopharm Chemical Reagent Co.",
         (40, 40, 40)),
    ]
    boxes = []
    y = ly + 60
    for size, text, colour in lines:
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = draw.textbbox((lx + 60, y), text, font=font)
        draw.text((lx + 60, y), text, font=font, fill=colour)
        boxes.append((size, (left - 8, top - 8, min(right + 8, lx + 2090), bottom + 8)))
        y = bottom + int(size * 1.2)
    im = im.filter(ImageFilter.GaussianBlur(1.1))  # the lens and the demosaicing
    noise = Image.effect_noise((w, h), 40).convert("RGB")  # sensor noise at indoor light
    im = Image.blend(im, noise, 0.15)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "Redmi Note"
    exif.get_ifd(0x8769)[0x9003] = TAKEN
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92, exif=exif.tobytes(), subsampling="4:2:0")
    return buf.getvalue(), boxes


def photos(n: int):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ".gitignore").write_text("*\n")
    for seed in range(1, n + 1):
        path, meta = OUT / f"sizing_{seed}.jpg", OUT / f"sizing_{seed}.json"
        if not path.exists() or not meta.exists():
            data, boxes = make_photo(seed)
            path.write_bytes(data)
            meta.write_text(json.dumps(boxes))
        yield path.read_bytes(), [(s, tuple(b)) for s, b in json.loads(meta.read_text())]


def pillow_encode(data: bytes, side: int, quality: float) -> bytes:
    from PIL import Image

    im = Image.open(io.BytesIO(data)).convert("RGB")
    scale = min(1.0, side / max(im.size))
    small = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BILINEAR,
                      reducing_gap=2.0)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=round(quality * 100), subsampling="4:2:0")
    return out.getvalue()


def chromium_encoder(browser=None):
    """A function (data, side, quality) -> bytes running static/js/photo.js's downscale() in
    headless Chromium (`browser`, or one started here), and a close(). The page and the module are
    served from memory (page.route), nothing over a network."""
    pw = None
    if browser is None:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page()

    def serve(route):
        url = route.request.url
        if url.endswith(".js"):
            rel = url.split("/static/", 1)[1]
            route.fulfill(body=(ROOT / "static" / rel).read_text(), content_type="text/javascript")
        else:
            route.fulfill(body="<!doctype html><title>bench</title>", content_type="text/html")

    page.route("http://bench.invalid/**", serve)
    page.goto("http://bench.invalid/")

    def encode(data: bytes, side: int, quality: float) -> bytes:
        b64 = page.evaluate(
            """async ([b64, side, quality]) => {
                const { downscale } = await import('/static/js/photo.js');
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const file = new File([bytes], 'camera.jpg', { type: 'image/jpeg' });
                const out = new Uint8Array(await (await downscale(file, side, quality)).arrayBuffer());
                let s = '';
                for (let i = 0; i < out.length; i += 0x8000) s += String.fromCharCode(...out.subarray(i, i + 0x8000));
                return btoa(s);
            }""",
            [base64.b64encode(data).decode(), side, quality],
        )
        return base64.b64decode(b64)

    def close():
        page.close()
        if pw is not None:
            browser.close()
            pw.stop()

    return encode, close


def display_copy(data: bytes):
    """The server's display copy of an upload (app/photos/pipeline.py, production sizes), as luma."""
    from PIL import Image

    from app.photos import pipeline
    from config import Config

    p = pipeline.process(data, display_size=Config.PHOTO_DISPLAY_SIZE, thumb_size=Config.PHOTO_THUMB_SIZE)
    return Image.open(io.BytesIO(p.display)).convert("L"), p.captured_at


def _stats(a, b) -> tuple[float, float]:
    """Mean absolute error and PSNR of two same-size luma images."""
    from PIL import ImageChops, ImageStat

    diff = ImageChops.difference(a, b)
    mae = ImageStat.Stat(diff).mean[0]
    mse = sum(i * i * n for i, n in enumerate(diff.histogram())) / (a.width * a.height)
    return mae, (99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse))


def _correlation(a, b) -> float:
    xs, ys = a.tobytes(), b.tobytes()  # luma, one byte a pixel
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 1.0


def compare(reference, test, boxes, scale: float) -> dict:
    if test.size != reference.size:
        test = test.resize(reference.size)
    mae, psnr = _stats(reference, test)
    lines = {}
    for size, box in boxes:
        crop = tuple(round(c * scale) for c in box)
        lines[size] = _correlation(reference.crop(crop), test.crop(crop))
    legible = [s for s, r in lines.items() if r >= LEGIBLE]
    return {"mae": mae, "psnr": psnr, "lines": lines, "smallest": min(legible) if legible else None}


def run(n_photos: int, chromium: bool) -> list[dict]:
    encode_chromium, close = chromium_encoder() if chromium else (None, None)
    rows = []
    try:
        for data, boxes in photos(n_photos):
            reference, _ = display_copy(data)
            scale = reference.width / 4000
            for side in SIDES:
                for q in QUALITIES:
                    encoders = {"pillow": pillow_encode}
                    if encode_chromium:
                        encoders["chromium"] = encode_chromium
                    for name, enc in encoders.items():
                        upload = enc(data, side, q)
                        test, captured = display_copy(upload)
                        rows.append({"encoder": name, "side": side, "quality": q, "bytes": len(upload),
                                     "original_bytes": len(data), "captured_at": bool(captured),
                                     **compare(reference, test, boxes, scale)})
    finally:
        if close:
            close()
    return rows


def table(rows: list[dict]) -> str:
    out = ["| encoder | long side | quality | kB / 12 MP photo | 3 photos kB | MAE vs today's display | PSNR dB | "
           "20 px line r | 28 px line r | smallest text ≥ 0.95 | EXIF time kept |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["encoder"], r["side"], r["quality"]) for r in rows})
    for enc, side, q in keys:
        rs = [r for r in rows if (r["encoder"], r["side"], r["quality"]) == (enc, side, q)]
        avg = sum(r["bytes"] for r in rs) / len(rs)
        smallest = max((r["smallest"] or 999) for r in rs)  # worst photo
        out.append(
            f"| {enc} | {side} | {q:.2f} | {avg / 1000:.0f} | {3 * avg / 1000:.0f} | "
            f"{sum(r['mae'] for r in rs) / len(rs):.2f} | {sum(r['psnr'] for r in rs) / len(rs):.1f} | "
            f"{min(r['lines'][20] for r in rs):.3f} | {min(r['lines'][28] for r in rs):.3f} | "
            f"{'none' if smallest == 999 else f'{smallest} px'} | "
            f"{'yes' if all(r['captured_at'] for r in rs) else 'no'} |")
    return "\n".join(out)


UPLOAD_JS = """async ([i, mode]) => {
    const { downscale } = await import('/static/js/photo.js');
    const { uploadPhoto } = await import('/static/js/upload.js');
    const { request } = await import('/static/js/api.js');
    const blob = mode === 'today' ? await downscale(window.benchPhotos[i], 2048, 0.85)
                                  : await downscale(window.benchPhotos[i]);
    const id = crypto.randomUUID();
    const t0 = performance.now();
    let r;
    if (mode === 'today') {
        const form = new FormData();
        form.append('file', blob, `${id}.jpg`);
        r = await request('PUT', `/api/photos/${id}`, { body: form });
    } else {
        r = await uploadPhoto({ id, blob });
    }
    return { ms: performance.now() - t0, bytes: blob.size, status: r.status };
}"""


def upload_3g(n_photos: int) -> list[dict]:
    import tempfile
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from bench import load
    from bench.weak_signal import PHONE, PROFILES, Throttle, build

    profile = PROFILES["3g"]
    originals = [data for data, _boxes in photos(n_photos)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="labsafe-sizing-") as tmp:
        app, _lab_id = build(Path(tmp))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                ctx = browser.new_context(base_url=f"http://127.0.0.1:{server.server_port}", **PHONE)
                ctx.set_default_timeout(300_000)
                token = ctx.request.get("/api/csrf").json()["csrf_token"]
                ctx.request.post("/api/login", headers={"Content-Type": "application/json", "X-CSRFToken": token},
                                 data=json.dumps({"username": "inspector", "password": load.DEMO_PASSWORD}))
                page = ctx.new_page()
                page.goto("/app")
                page.evaluate("""async (all) => {
                    window.benchPhotos = all.map((b64) => new File(
                        [Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'camera.jpg', { type: 'image/jpeg' }));
                    await import('/static/js/photo.js'); await import('/static/js/upload.js');
                }""", [base64.b64encode(d).decode() for d in originals])
                Throttle(browser, ctx, page).set(profile)
                for mode in ("today", "new"):
                    for i in range(len(originals)):
                        r = page.evaluate(UPLOAD_JS, [i, mode])
                        need_ms = r["bytes"] * 8 / (profile["up_kbps"] * 1000) * 1000
                        rows.append({"mode": mode, **r, "ratio": r["ms"] / need_ms})
                browser.close()
        finally:
            server.shutdown()
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=3)
    ap.add_argument("--no-chromium", action="store_true")
    ap.add_argument("--upload-3g", action="store_true")
    args = ap.parse_args(argv)
    if args.upload_3g:
        rows = upload_3g(args.photos)
        print("| upload | photo | bytes | ms on 3G | × the time its bytes need at 400 kbps | status |")
        print("|---|---|---|---|---|---|")
        for i, r in enumerate(rows):
            print(f"| {r['mode']} | {i % args.photos + 1} | {r['bytes']} | {r['ms']:.0f} | {r['ratio']:.2f} "
                  f"| {r['status']} |")
        for mode in ("today", "new"):
            total = sum(r["bytes"] for r in rows if r["mode"] == mode)
            print(f"{mode}: {total / 1000:.0f} kB for {args.photos} photos")
        return
    rows = run(args.photos, not args.no_chromium)
    (OUT / "photo_sizing.json").write_text(json.dumps(rows, indent=1, default=str))
    originals = sorted({r["original_bytes"] for r in rows})
    print(f"inputs: {len(originals)} camera JPEGs 4000x3000, {min(originals) // 1000}-{max(originals) // 1000} kB")
    print(table(rows))


if __name__ == "__main__":
    main()

"""Photo pipeline benchmark: LabSafe's pipeline vs a plain full decode-and-resize with Pillow.

    .venv/bin/python -m bench.photo_pipeline            # N=15 runs per variant
    .venv/bin/python -m bench.photo_pipeline --runs 30

Input: a realistic 12 MP phone JPEG (4000x3000, natural-looking noisy content, EXIF orientation 6,
GPS, DateTimeOriginal), generated once and cached under bench/out/ (not committed).

Variants (same input, same outputs: a 1600 px display JPEG and a 320 px thumbnail):
- pipeline: app.photos.pipeline.process (draft decode to the box, orient, strip, one decode);
- plain:    Image.open + full load, ImageOps.exif_transpose, resize to 1600 and to 320 from the full
            image with Pillow's default resampling, save both as JPEG.

    .venv/bin/python -m bench.photo_pipeline --bounds   # the decoding bounds (app/photos/pipeline.py)

--bounds: the worst inputs the pipeline still accepts, one per format, each at its format's pixel
cap with just the minimum bytes per megapixel (a flat image padded with metadata: the costliest
decode the fewest bytes buy), and refused bombs; CPU time and peak memory of one process() each,
with the production settings (config.Config). Inputs are cached under bench/out/.

Each variant runs in its own subprocess so memory numbers are honest: ``ru_maxrss`` delta is the
peak resident memory of that process above its baseline (imports done, input bytes read) during
ONE photo; ``tracemalloc`` peak is what Python's allocator saw (Pillow's pixel buffers are C
allocations tracemalloc cannot see, which is why both are printed). Timings: median of N runs
after one warm-up.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
INPUT = OUT / "phone_12mp.jpg"


def make_input() -> bytes:
    """A 12 MP JPEG that compresses like a photo (gradients, shapes, sensor noise), ~4-6 MB."""
    if INPUT.exists():
        return INPUT.read_bytes()
    from PIL import Image, ImageDraw, ImageFilter

    w, h = 4000, 3000
    # Smooth lighting: a gradient scaled up from a tiny random image.
    base = Image.effect_noise((40, 30), 80).convert("RGB").resize((w, h), Image.Resampling.BICUBIC)
    tint = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    im = Image.blend(base, tint, 0.35)
    draw = ImageDraw.Draw(im)
    import random

    rnd = random.Random(20171)
    for _ in range(250):  # shelves, bottles, labels: edges and flat regions
        x, y = rnd.randrange(w), rnd.randrange(h)
        box = (x, y, x + rnd.randrange(20, 600), y + rnd.randrange(20, 400))
        fill = tuple(rnd.randrange(256) for _ in range(3))
        (draw.rectangle if rnd.random() < 0.6 else draw.ellipse)(box, fill=fill, outline=(20, 20, 20), width=3)
    im = im.filter(ImageFilter.GaussianBlur(1.2))
    # Sensor noise, as a phone at indoor light would have.
    noise = Image.effect_noise((w, h), 40).convert("RGB")
    im = Image.blend(im, noise, 0.2)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    exif[0x010F], exif[0x0110] = "Xiaomi", "Redmi Note"
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 10:11:12"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (30.0, 52.0, 12.0), "E", (120.0, 5.0, 30.0)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92, exif=exif.tobytes(), subsampling="4:2:0")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ".gitignore").write_text("*\n")
    INPUT.write_bytes(buf.getvalue())
    return buf.getvalue()


def run_pipeline(data: bytes):
    from app.photos import pipeline

    p = pipeline.process(data, max_pixels=50_000_000, display_size=1600, thumb_size=320)
    return len(p.display), len(p.thumb), p.decoded_size


def run_plain(data: bytes):
    from PIL import Image, ImageOps

    im = Image.open(io.BytesIO(data))
    im.load()  # full 12 MP decode
    im = ImageOps.exif_transpose(im)

    def fit(size, long_side):
        s = long_side / max(size)
        return round(size[0] * s), round(size[1] * s)

    display, thumb = im.resize(fit(im.size, 1600)), im.resize(fit(im.size, 320))
    out_d, out_t = io.BytesIO(), io.BytesIO()
    display.save(out_d, "JPEG")
    thumb.save(out_t, "JPEG")
    return len(out_d.getvalue()), len(out_t.getvalue()), im.size


VARIANTS = {"pipeline": run_pipeline, "plain": run_plain}


# ---- decoding bounds -------------------------------------------------------------------------

def _padded(im, fmt: str, min_bytes: int, **kwargs) -> bytes:
    """``im`` saved as ``fmt``, padded with a metadata block to at least ``min_bytes``."""
    from PIL import Image, PngImagePlugin

    def save(pad: int) -> bytes:
        buf = io.BytesIO()
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            if pad:
                info.add_text("Comment", "x" * pad)
            im.save(buf, fmt, pnginfo=info, **kwargs)
        else:
            im.save(buf, fmt, **({"exif": b"Exif\x00\x00" + b"\x00" * pad} if pad else {}), **kwargs)
        return buf.getvalue()

    data = save(0)
    if len(data) < min_bytes:
        data = save(min_bytes - len(data) + 64)
    assert isinstance(Image.open(io.BytesIO(data)).size, tuple)
    return data


def bound_inputs() -> dict[str, bytes]:
    """name -> bytes, made once and cached (HEIC encoding takes tens of seconds)."""
    from PIL import Image

    from app.photos import pipeline
    from config import Config

    ratio = Config.PHOTO_MIN_BYTES_PER_MEGAPIXEL
    caps = pipeline.FULL_DECODE_MAX_PIXELS

    def at_cap(cap: int, aspect=(16, 9)) -> tuple[int, int]:
        w = int(math.sqrt(cap * aspect[0] / aspect[1]))
        return w, cap // w

    def flat(mode, size):
        return Image.new(mode, size, (90, 120, 150, 200)[: len(mode)] if mode != "L" else 128)

    makers = {
        # accepted, the worst per format
        "jpeg_50mp": lambda: _padded(flat("RGB", (8160, 6120)), "JPEG", 0, quality=85),
        "heic_24mp": lambda: _padded(flat("RGB", at_cap(caps["HEIF"], (4, 3))), "HEIF",
                                      ratio * caps["HEIF"] // 1_000_000 + 1, quality=50),
        "png_rgba_8mp": lambda: _padded(flat("RGBA", at_cap(caps["PNG"])), "PNG",
                                        ratio * caps["PNG"] // 1_000_000 + 1),
        "webp_rgba_8mp": lambda: _padded(flat("RGBA", at_cap(caps["WEBP"])), "WEBP",
                                         ratio * caps["WEBP"] // 1_000_000 + 1, lossless=True),
        # refused
        "bomb_1bit_64mp": lambda: _padded(Image.new("1", (8000, 7990), 0), "PNG", 0),
        "blank_png_8mp": lambda: _padded(Image.new("L", at_cap(caps["PNG"]), 0), "PNG", 0),
        "heic_48mp": lambda: _padded(flat("RGB", (8064, 6048)), "HEIF", 0, quality=50),
    }
    out = {}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ".gitignore").write_text("*\n")
    for name, make in makers.items():
        path = OUT / f"bound_{name}.bin"
        if not path.exists():
            path.write_bytes(make())
        out[name] = path.read_bytes()
    return out


def bound_child(name: str, runs: int) -> dict:
    from PIL import Image

    from app.errors import DomainError
    from app.photos import pipeline
    from config import Config

    data = (OUT / f"bound_{name}.bin").read_bytes()
    im = Image.open(io.BytesIO(data))
    size, mode, fmt = im.size, im.mode, im.format
    del im

    def run():
        try:
            pipeline.process(data, max_pixels=Config.PHOTO_MAX_PIXELS,
                             min_bytes_per_megapixel=Config.PHOTO_MIN_BYTES_PER_MEGAPIXEL,
                             display_size=Config.PHOTO_DISPLAY_SIZE, thumb_size=Config.PHOTO_THUMB_SIZE)
            return "accepted"
        except DomainError as err:
            return f"refused {err.status}"

    import gc

    gc.collect()
    _reset_peak()
    base = _rss_bytes()
    t = time.process_time()
    outcome = run()
    first_cpu = time.process_time() - t
    rss_delta = _maxrss_bytes() - base
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    cpu = [first_cpu]
    for _ in range(runs - 1):
        t = time.process_time()
        run()
        cpu.append(time.process_time() - t)
    return {"name": name, "format": fmt, "mode": mode, "size": list(size), "bytes": len(data),
            "outcome": outcome, "cpu_ms": statistics.median(cpu) * 1000, "rss_delta_mb": rss_delta / 2**20,
            "tracemalloc_mb": traced_peak / 2**20}


def bounds_main(runs: int) -> int:
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", "from bench.photo_pipeline import bound_inputs; bound_inputs()"],
                   cwd=root, check=True)
    from config import Config

    print(f"settings: PHOTO_MAX_PIXELS {Config.PHOTO_MAX_PIXELS:,}, PHOTO_MIN_BYTES_PER_MEGAPIXEL "
          f"{Config.PHOTO_MIN_BYTES_PER_MEGAPIXEL:,}; {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'input':<16}{'format':>7}{'mode':>6}{'size':>12}{'MP':>6}{'kB':>8}{'B/MP':>8}  "
          f"{'outcome':<13}{'CPU ms':>8}{'RSS MB':>8}{'traced MB':>10}")
    for name in ("jpeg_50mp", "heic_24mp", "png_rgba_8mp", "webp_rgba_8mp", "bomb_1bit_64mp", "blank_png_8mp",
                 "heic_48mp"):
        out = subprocess.run([sys.executable, "-m", "bench.photo_pipeline", "--bound-child", name, "--runs", str(runs)],
                             cwd=root, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        mp = r["size"][0] * r["size"][1] / 1e6
        print(f"{name:<16}{r['format']:>7}{r['mode']:>6}{r['size'][0]:>6}x{r['size'][1]:<5}{mp:>6.1f}"
              f"{r['bytes'] / 1000:>8.0f}{r['bytes'] / mp:>8.0f}  {r['outcome']:<13}{r['cpu_ms']:>8.0f}"
              f"{r['rss_delta_mb']:>8.0f}{r['tracemalloc_mb']:>10.1f}")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f}")
    return 0


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0). A child process otherwise inherits its
    parent's ru_maxrss, which would hide the photo's own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _maxrss_bytes() -> int:
    """Peak RSS: VmHWM (resettable) where available, else ru_maxrss (KiB on Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def child(variant: str, runs: int) -> dict:
    """One variant in a fresh process: one-photo memory first, then timings."""
    fn = VARIANTS[variant]
    data = INPUT.read_bytes()
    import PIL.Image  # noqa: F401  (imports are part of the baseline, not the photo)

    if variant == "pipeline":
        import app.photos.pipeline  # noqa: F401
    else:
        import PIL.ImageOps  # noqa: F401
    import gc

    gc.collect()
    _reset_peak()
    base = _rss_bytes()  # after the reset the peak starts at the current RSS
    info = fn(data)
    rss_delta = _maxrss_bytes() - base
    tracemalloc.start()
    fn(data)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(data)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {
        "variant": variant,
        "median_s": statistics.median(times),
        "cpu_median_s": statistics.median(cpu),
        "min_s": min(times),
        "max_s": max(times),
        "runs": runs,
        "rss_delta_mb": rss_delta / 2**20,
        "rss_peak_mb": _maxrss_bytes() / 2**20,
        "tracemalloc_peak_mb": traced_peak / 2**20,
        "display_bytes": info[0],
        "thumb_bytes": info[1],
        "decoded": list(info[2]),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--child", choices=list(VARIANTS))
    ap.add_argument("--bounds", action="store_true", help="measure the decoding bounds instead")
    ap.add_argument("--bound-child")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.runs)))
        return 0
    if args.bound_child:
        print(json.dumps(bound_child(args.bound_child, args.runs)))
        return 0
    if args.bounds:
        return bounds_main(min(args.runs, 5))
    if not INPUT.exists():  # generate in a subprocess so this parent stays small
        subprocess.run([sys.executable, "-c", "from bench.photo_pipeline import make_input; make_input()"],
                       cwd=Path(__file__).resolve().parent.parent, check=True)
    data = INPUT.read_bytes()
    from PIL import Image
    from PIL import __version__ as pil_version

    im = Image.open(io.BytesIO(data))
    print(f"input: {INPUT.relative_to(Path.cwd()) if INPUT.is_relative_to(Path.cwd()) else INPUT} "
          f"{im.size[0]}x{im.size[1]} {len(data) / 2**20:.1f} MB, EXIF orientation {im.getexif().get(0x0112)}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"Pillow {pil_version}, {platform.platform()}")
    results = {}
    root = Path(__file__).resolve().parent.parent
    for variant in VARIANTS:
        out = subprocess.run(
            [sys.executable, "-m", "bench.photo_pipeline", "--child", variant, "--runs", str(args.runs)],
            cwd=root, capture_output=True, text=True, check=True,
        )
        results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'variant':<10}{'median ms':>10}{'min ms':>9}{'max ms':>9}{'CPU med ms':>11}"
          f"{'RSS delta MB':>14}{'tracemalloc MB':>16}  decoded")
    for r in results.values():
        print(f"{r['variant']:<10}{r['median_s'] * 1000:>10.0f}{r['min_s'] * 1000:>9.0f}{r['max_s'] * 1000:>9.0f}"
              f"{r['cpu_median_s'] * 1000:>11.0f}{r['rss_delta_mb']:>14.1f}{r['tracemalloc_peak_mb']:>16.1f}"
              f"  {r['decoded'][0]}x{r['decoded'][1]}")
    wall = results["plain"]["median_s"] / results["pipeline"]["median_s"]
    cpu = results["plain"]["cpu_median_s"] / results["pipeline"]["cpu_median_s"]
    print(f"speed-up, plain / pipeline: {wall:.2f}x wall-clock median, {cpu:.2f}x CPU-time median (target >= 1.8x)")
    print(f"pipeline one-photo peak: {results['pipeline']['rss_delta_mb']:.1f} MB RSS above baseline "
          f"(target < 80 MB); plain: {results['plain']['rss_delta_mb']:.1f} MB")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} (numbers are noisy when the machine is busy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

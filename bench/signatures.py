"""Benchmark: checking a signature sent with an inspection or a ticket action (app/photos/signatures.signature_png).

    .venv/bin/python -m bench.signatures            # 50 runs per size
    .venv/bin/python -m bench.signatures --runs 200

Times decoding, checking (Pillow verify) and re-encoding the PNG of a signature as the phone's canvas
gives it (600 x 200, a stroke on a transparent ground), and the largest PNG a submit may carry
(150 KB of noise), CPU time median of N runs after one warm-up. Prints JSON; docs/PERFORMANCE.md
records the figures.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import time

from flask import Flask
from flask_babel import Babel
from PIL import Image

from app.photos.signatures import signature_png
from tests.factories.inspections import signature_data_url


def _noise_png(limit: int) -> str:
    side, last = 50, b""
    while True:  # the largest square of noise under the limit
        out = io.BytesIO()
        Image.effect_noise((side, side), 80).convert("RGB").save(out, format="PNG")
        if out.tell() > limit:
            return "data:image/png;base64," + base64.b64encode(last).decode()
        last, side = out.getvalue(), side + 10


def _time(image: str, runs: int) -> dict:
    signature_png(image)
    times = []
    for _ in range(runs):
        start = time.process_time()
        png = signature_png(image)
        times.append(time.process_time() - start)
    return {"in_bytes": len(base64.b64decode(image.split(",", 1)[1])), "out_bytes": len(png),
            "cpu_ms_median": round(statistics.median(times) * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    app = Flask("bench"); Babel(app)  # noqa: E702  (error messages are translated)
    with app.app_context():
        print(json.dumps({"canvas_600x200": _time(signature_data_url(size=(600, 200)), args.runs),
                          "largest_150kb": _time(_noise_png(150 * 1024), max(5, args.runs // 10))}, indent=1))


if __name__ == "__main__":
    main()

"""`make bench` / `python -m bench`: every benchmark whose figures are in docs/PERFORMANCE.md, in turn.

The load benchmark (needs wrk and several minutes) runs separately: `make bench-load`.
Each benchmark is its own process, so one's memory does not colour the next one's peak.
"""
from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ["photo_pipeline", "write_contention", "sqlite_peak", "checklists", "nightly", "monthly_summary",
              "page_weight", "login_timing", "weak_signal", "photo_sizing", "rounds", "documents", "round_pages",
              "round_rules", "photo_store"]


def main(argv: list[str]) -> int:
    chosen = argv or BENCHMARKS
    failed = []
    for name in chosen:
        print(f"\n=== bench.{name} ===", flush=True)
        if subprocess.call([sys.executable, "-m", f"bench.{name}"]) != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

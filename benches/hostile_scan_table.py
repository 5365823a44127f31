"""The frame-1mib table of docs/benchmarks.md: native, pure and msgspec per row.

``python -m benches.hostile_scan_table [--before DIR] [--rounds N]``

One process, one run: each row of ``benches/test_hostile_scan_bench.py``
scanned ``--rounds`` times per implementation, the minimum kept (the box is
shared and noisy). ``--before DIR`` adds a column for another checkout's
pure scanner (``DIR`` is its ``python/`` folder), measured in a subprocess
of the same run, so a change can be quoted before and after.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from benches.test_hostile_scan_bench import CASES, IMPLS, run

_BEFORE = """
import sys, time
sys.path.insert(0, sys.argv[1])
from falcon_pachinko import _pure
assert _pure.__file__.startswith(sys.argv[1]), _pure.__file__
sys.path.insert(1, ".")
from benches.test_hostile_scan_bench import CASES
best = 1e9
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    try:
        _pure.scan_frame(CASES[sys.argv[2]], max_size=1 << 20, max_depth=64)
    except ValueError:
        pass
    best = min(best, time.perf_counter() - start)
print(best)
"""


def best_ms(fn: Callable[[bytes], Any], frame: bytes, rounds: int) -> float:
    """The fastest of ``rounds`` calls, in milliseconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run(fn, frame)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def before_ms(path: str, case: str, rounds: int) -> float:
    """The other checkout's pure scanner on one row (a subprocess)."""
    out = subprocess.run(
        [sys.executable, "-c", _BEFORE, path, case, str(rounds)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return float(out.stdout.strip()) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="another checkout's python/ folder")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    extra = " | before (pure)" if args.before else ""
    print(f"| case | native | pure | pure / native{extra} | msgspec Raw envelope |")
    print("| --- | --- | --- | --- |" + (" --- |" if args.before else "") + " --- |")
    for case, frame in CASES.items():
        native = best_ms(IMPLS["native"], frame, args.rounds)
        pure = best_ms(IMPLS["pure"], frame, args.rounds)
        floor = best_ms(IMPLS["baseline-msgspec-raw"], frame, args.rounds)
        before = f" | {before_ms(args.before, case, 2):,.0f}" if args.before else ""
        ratio = pure / native if native else float("inf")
        row = f"| {case} | {native:.1f} | {pure:.1f} | {ratio:.1f}x{before} | {floor:.1f} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()

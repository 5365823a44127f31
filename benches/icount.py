"""Instructions per round trip of each end-to-end server, counted by callgrind.

``python -m benches.icount [--servers ...] [--json PATH]``

Runs ``benches/uvicorn_inproc.py`` (the echo servers inside uvicorn's own
protocol, 50 connections, no sockets) under ``valgrind --tool=callgrind``
twice per server, with ``SHORT`` and ``LONG`` measured rounds, and divides
the difference of the two totals by the extra round trips: start-up,
imports and warm-up cancel out. Unlike every timing on this shared 2-core
machine the count repeats: to within a few hundred instructions per round
trip (of 80,000-140,000) from run to run (hash seed fixed; what remains is
address-dependent ordering). Instructions are not time (cache misses and
branch mispredictions are not in them), so this says how much work each
server does per round trip, and the end-to-end figures say what that is
worth on a real network stack.

Needs ``valgrind`` on PATH (Debian's package); about half a minute per run.
``PYTHONPATH=<checkout>/python python -m benches.icount`` counts another
checkout's package (its native module built in place) with this harness.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .load_e2e import SERVERS

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 50
SHORT, LONG = 20, 60  # measured rounds of the two runs per server
RUN_LIMIT = 600  # seconds, one valgrind run
_COLLECTED = re.compile(r"Collected : (\d+)")


def collected(stderr: str) -> int:
    """The instruction total callgrind reports at exit."""
    found = _COLLECTED.search(stderr)
    if found is None:
        raise RuntimeError("callgrind reported no total:\n" + stderr[-2000:])
    return int(found.group(1))


def per_round_trip(short_total: int, long_total: int) -> float:
    """Instructions per round trip from the two runs' totals."""
    return (long_total - short_total) / ((LONG - SHORT) * CONNECTIONS)


def count(server: str, rounds: int) -> int:
    env = {
        **os.environ,
        "FALCON_PACHINKO_IMPL": SERVERS[server][1],
        "PYTHONHASHSEED": "0",
        # An existing PYTHONPATH comes first: ``PYTHONPATH=<other tree>/python``
        # counts another checkout's package (a before/after comparison).
        "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
    }
    done = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, "-m", "benches.uvicorn_inproc", server,
            "--connections", str(CONNECTIONS), "--rounds", str(rounds),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_LIMIT, check=True,
    )  # fmt: skip
    return collected(done.stderr)


def measure(servers: list[str]) -> dict[str, float]:
    """Instructions per round trip per server (two runs at a time: 2 cores)."""
    jobs = [(s, r) for s in servers for r in (SHORT, LONG)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: count(*job), jobs), strict=True))
    return {s: per_round_trip(totals[(s, SHORT)], totals[(s, LONG)]) for s in servers}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", nargs="+", choices=list(SERVERS), default=list(SERVERS))
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args = parser.parse_args()
    counts = measure(args.servers)
    for server, value in counts.items():
        print(f"  {server}: {value:,.0f} instructions per round trip", flush=True)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"connections": CONNECTIONS, "instructions_per_rtt": counts}, indent=2)
        )


if __name__ == "__main__":
    main()

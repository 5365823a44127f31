"""``make bench``: every benchmark, then one summary table and a chart.

Runs, printing progress: the in-process groups (pytest-benchmark, JSON to
``build/bench/inprocess.json``), ``load_broadcast`` for native and pure, and
the end-to-end load script twice: uvicorn with its default loop
(``build/bench/e2e.json``; uvloop here, what ``uvicorn[standard]`` installs
and uvicorn then picks) and on asyncio's loop (``build/bench/e2e-asyncio.json``:
uvicorn's stack costs about half again as much per round trip there, two
``epoll_ctl`` calls per round trip among it, so the frameworks' own costs
weigh less); the instructions per round trip of each server in process
(``benches/icount.py``, callgrind: the one figure here that does not move
with the machine's noise) when valgrind is installed. Then prints one
summary table (this library native and pure vs the hand-written Falcon
baseline and a bare ASGI floor, each row in one unit, every ratio "times
better than hand-written": above 1 is better), writes it with the machine,
Python version and date into ``docs/benchmarks.md`` between the summary
markers, and draws ``docs/fanout.png`` (per-recipient fan-out cost against
room size, matplotlib).

``python -m benches.report --from-json`` rebuilds table and chart from the
last run's JSON without measuring again.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "fanout.png"
START, END = "<!-- summary:start -->", "<!-- summary:end -->"
FRAMES = 5000  # per connection in benches/test_dispatch_bench.py and test_roundtrip_bench.py
FANOUT_ROW = 1_000
# The second end-to-end run: uvicorn on asyncio's loop, where the server
# stack costs about half again as much per round trip (uvicorn pauses and
# resumes reading on every message: two epoll_ctl calls per round trip that
# uvloop's libuv folds away), so the frameworks' own costs weigh less.
ASYNCIO_JSON = OUT / "e2e-asyncio.json"
ICOUNT_JSON = OUT / "icount.json"


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run(cmd: list[str], impl: str = "native") -> None:
    env = {**os.environ, "FALCON_PACHINKO_IMPL": impl}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


# The in-process step runs this many times, a minute or so apart, and keeps
# each row's best run: on this shared VM a slow spell lasts seconds, longer
# than one row's 20 rounds, and once turned a 2.8x row into 1.5x.
INPROCESS_RUNS = 3


def measure() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    runs = [OUT / f"inprocess-{n}.json" for n in range(1, INPROCESS_RUNS + 1)]
    for n, path in enumerate(runs, 1):
        step(
            f"1/3 in-process benchmarks, run {n}/{INPROCESS_RUNS} (pytest-benchmark; "
            "native, pure and baseline rows per group)"
        )
        run([
            py, "-m", "pytest", "benches", "--benchmark-only", "--benchmark-group-by=group",
            "--benchmark-columns=min,median,ops,rounds", "-q", "-p", "no:cacheprovider",
            f"--benchmark-json={path}",
        ])  # fmt: skip
    merge_best(runs, OUT / "inprocess.json")
    step("2/3 broadcast against 200 real uvicorn connections (native, then pure)")
    run([py, "-m", "benches.load_broadcast"], "native")
    run([py, "-m", "benches.load_broadcast"], "pure")
    step("3/5 end to end: uvicorn process + client process on loopback (uvicorn's default loop)")
    run([py, "-m", "benches.load_e2e", "--json", str(OUT / "e2e.json")])
    step("4/5 end to end again, the servers on asyncio's loop")
    run([py, "-m", "benches.load_e2e", "--loop", "asyncio", "--json", str(ASYNCIO_JSON)])
    if shutil.which("valgrind") is None:
        step("5/5 instructions per round trip: skipped (no valgrind on PATH)")
        return
    step("5/5 instructions per round trip, uvicorn's protocol in process (callgrind)")
    run([py, "-m", "benches.icount", "--json", str(ICOUNT_JSON)])


def merge_best(runs: list[Path], out: Path) -> None:
    """One pytest-benchmark JSON with each (group, name)'s best run (lowest
    minimum), so the table and the chart read one file."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    merged: dict[str, Any] = {}
    for path in runs:
        data = json.loads(path.read_text())
        merged = data
        for bench in data["benchmarks"]:
            key = (bench["group"], bench["name"])
            if key not in best or bench["stats"]["min"] < best[key]["stats"]["min"]:
                best[key] = bench
    merged["benchmarks"] = list(best.values())
    merged["runs_merged"] = len(runs)
    out.write_text(json.dumps(merged))


def _inprocess() -> dict[tuple[str, str], float]:
    """(group, row name) -> minimum seconds; the group up to its first space."""
    data = json.loads((OUT / "inprocess.json").read_text())
    out = {}
    for bench in data["benchmarks"]:
        group = bench["group"]
        short = group.split(" ")[0] if group.startswith(("dispatch/", "roundtrip/")) else group
        out[(short, bench["name"])] = float(bench["stats"]["min"])
    return out


def rows() -> list[tuple[str, str, bool, dict[str, float | None]]]:
    """(operation, unit, higher_is_better, {column: value})."""
    ip = _inprocess()
    e2e = json.loads((OUT / "e2e.json").read_text())
    table: list[tuple[str, str, bool, dict[str, float | None]]] = []
    for fmt in ("envelope", "schema"):
        group = f"dispatch/{fmt}"
        table.append((
            f"dispatch, {fmt} format (in process, `falcon.asgi.App`)", "frames/s", True,
            {"falcon": FRAMES / ip[(group, "floor")], "asgi": None,
             "native": FRAMES / ip[(group, "native")], "pure": FRAMES / ip[(group, "pure")]},
        ))  # fmt: skip
    group = "roundtrip/echo"
    table.append((
        "echo round trips, in process (each frame in a later loop turn, no sockets)",
        "round trips/s", True,
        {c: FRAMES / ip[(group, row)] for c, row in
         (("falcon", "floor"), ("asgi", "bare"), ("native", "native"), ("pure", "pure"))},
    ))  # fmt: skip
    n = FANOUT_ROW

    def per_recipient(kind: str, name: str) -> float | None:
        found = ip.get((f"fanout/{n} ({kind} stub)", name))
        return None if found is None else found / n * 1e9

    table.append((
        f"broadcast to {n:,} Falcon sockets (in process), per recipient", "ns", False,
        {"falcon": per_recipient("falcon", "floor"), "asgi": per_recipient("counting", "floor"),
         "native": per_recipient("falcon", "native"), "pure": per_recipient("falcon", "pure")},
    ))  # fmt: skip
    best = e2e["best"]
    for label, unit, higher, key in e2e_rows(e2e):
        table.append((label, unit, higher, {c: best[c][key] for c in best}))
    if ASYNCIO_JSON.exists():
        best = json.loads(ASYNCIO_JSON.read_text())["best"]
        for label, unit, higher, key in ASYNCIO_ROWS:
            table.append((label, unit, higher, {c: best[c][key] for c in best}))
    if ICOUNT_JSON.exists():
        counts = json.loads(ICOUNT_JSON.read_text())["instructions_per_rtt"]
        table.append((ICOUNT_ROW, "instructions", False, {c: counts.get(c) for c in COLUMNS}))
    return table


COLUMNS = ("falcon", "asgi", "native", "pure")
ICOUNT_ROW = (
    "instructions per round trip, 50 connections, uvicorn's protocol in process "
    "(callgrind, no sockets)"
)


def e2e_rows(e2e: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    """``E2E_ROWS`` with the first row naming the loop the run used."""
    loop = e2e.get("server_loop", "asyncio")
    name = "asyncio's loop" if loop == "asyncio" else f"{loop}, its default loop here"
    return [
        (label.format(loop=name) if n == 0 else label, unit, higher, key)
        for n, (label, unit, higher, key) in enumerate(E2E_ROWS)
    ]


E2E_ROWS = [
    ("echo latency p50, 1 client (uvicorn on {loop})", "µs", False, "echo_p50_us"),
    ("echo latency p99, 1 client", "µs", False, "echo_p99_us"),
    ("round trips, 50 clients", "round trips/s", True, "rtt_per_s"),
    ("server CPU per round trip, 50 clients", "µs", False, "cpu_us_per_rtt"),
    ("broadcast to 500 clients", "deliveries/s", True, "deliveries_per_s"),
    ("server CPU per delivery, 500 clients", "µs", False, "cpu_us_per_delivery"),
    ("idle server memory per connection", "KiB", False, "idle_kib_per_conn"),
]
# The asyncio run's rows: the throughput and CPU rows of E2E_ROWS, suffixed.
ASYNCIO_ROWS = [
    (f"{label}, uvicorn on asyncio's loop", unit, higher, key)
    for label, unit, higher, key in E2E_ROWS
    if key in {"rtt_per_s", "cpu_us_per_rtt", "deliveries_per_s", "cpu_us_per_delivery"}
]


def spread() -> str:
    """The end-to-end rows' lowest-highest value over the load script's rounds."""
    e2e = json.loads((OUT / "e2e.json").read_text())
    out = (
        f"End-to-end rows: best of {e2e['rounds']} alternating rounds (a fresh server "
        "process each, clients offering "
        f"{e2e.get('compression', 'deflate')} compression, every server with glibc's "
        f"allocator set by {settings(e2e.get('malloc', {}))}: see benches/load_e2e.py "
        "and docs/guide/deploying.md); their lowest and highest value over the rounds:\n\n"
        "| operation | hand-written Falcon | bare ASGI | native | pure |\n"
        "| --- | --- | --- | --- | --- |\n"
    )
    runs = [(e2e, e2e_rows(e2e))]
    if ASYNCIO_JSON.exists():
        runs.append((json.loads(ASYNCIO_JSON.read_text()), ASYNCIO_ROWS))
    for data, table in runs:
        for label, _unit, _higher, key in table:
            cells = []
            for column in COLUMNS:
                found = data["spread"].get(column)
                cells.append("—" if found is None else " to ".join(fmt(v) for v in found[key]))
            out += f"| {label} | " + " | ".join(cells) + " |\n"
    client = [
        v for figures in e2e["spread"].values() for v in figures.get("client_cpu_us_per_rtt", [])
    ]
    if client:
        out += (
            f"\nThe load generator's own CPU per round trip (50 clients, one process, "
            f"benches/wsclient.py): {fmt(min(client))} to {fmt(max(client))} µs over all "
            "servers and rounds.\n"
        )
    return out


def settings(env: dict[str, str]) -> str:
    """The allocator environment the servers ran with, as shell text."""
    return " ".join(f"`{k}={v}`" for k, v in env.items()) or "nothing (glibc defaults)"


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def ratio(ours: float | None, base: float | None, higher: bool) -> str:
    if ours is None or base is None or not ours or not base:
        return "—"
    return f"{(ours / base if higher else base / ours):.2f}x"


def summary() -> str:
    head = (
        "| operation | unit | hand-written Falcon | bare ASGI | native | pure "
        "| native vs hand-written | pure vs hand-written |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    body = ""
    for label, unit, higher, v in rows():
        body += (
            f"| {label} | {unit} ({'higher' if higher else 'lower'} is better) "
            f"| {fmt(v['falcon'])} | {fmt(v['asgi'])} | {fmt(v['native'])} | {fmt(v['pure'])} "
            f"| {ratio(v['native'], v['falcon'], higher)} "
            f"| {ratio(v['pure'], v['falcon'], higher)} |\n"
        )
    return head + body


def machine() -> str:
    cpu = "unknown CPU"
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{datetime.date.today().isoformat()}"
    )


def write_doc(table: str, ranges: str) -> None:
    section = (
        f"{START}\n## Summary (`make bench`, one run)\n\n"
        f"Machine: {machine()}.\n\n"
        'Ratios are "times better than the hand-written Falcon app" in every row '
        "(throughput: ours / hand-written; costs: hand-written / ours), so above 1 "
        "is better everywhere. The machine is shared and noisy: ratios within one "
        "run mean more than absolute figures.\n\n"
        f"{table}\n"
        f"{ranges}\n"
        "![Per-recipient fan-out cost against room size](fanout.png)\n"
        f"{END}"
    )
    text = DOC.read_text()
    if START in text:
        text = re.sub(
            re.escape(START) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S
        )
    else:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{section}\n{rest}"
    DOC.write_text(text)


def chart() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads((OUT / "inprocess.json").read_text())
    series: dict[str, dict[int, float]] = {}
    labels = {
        ("falcon", "floor"): "hand-written Falcon (send_text loop)",
        ("falcon", "native"): "falcon-pachinko native",
        ("falcon", "pure"): "falcon-pachinko pure",
        ("counting", "floor"): "bare ASGI send loop (no isolation)",
        ("counting", "native"): "native, counting stubs",
    }
    for bench in data["benchmarks"]:
        found = re.match(r"fanout/(\d+) \((\w+) stub\)", bench["group"])
        if not found:
            continue
        n, kind = int(found.group(1)), found.group(2)
        label = labels.get((kind, bench["name"]))
        if label is not None:
            series.setdefault(label, {})[n] = bench["stats"]["min"] / n * 1e9
    fig, ax = plt.subplots(figsize=(9, 4))
    for label in [name for name in labels.values() if name in series]:
        points = series[label]
        sizes = sorted(points)
        ax.plot(sizes, [points[s] for s in sizes], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("room size (recipients)")
    ax.set_ylabel("ns per recipient (lower is better)")
    ax.set_title("One broadcast, in process: cost per recipient")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(CHART, dpi=100)
    print(f"chart written to {CHART.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from-json", action="store_true", help="reuse build/bench/*.json")
    args = parser.parse_args()
    if not args.from_json:
        measure()
    table, ranges = summary(), spread()
    write_doc(table, ranges)
    chart()
    print(f"\nSummary (also in {DOC.relative_to(ROOT)}; machine: {machine()}):\n")
    print(table)
    print(ranges)


if __name__ == "__main__":
    main()

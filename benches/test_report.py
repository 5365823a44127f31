"""``make bench``'s report: the in-process runs merged row by row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import report
from .report import merge_best


def test_each_row_keeps_its_best_run(tmp_path: Path) -> None:
    """A slow spell in one run must not decide a row: per (group, name), the
    run with the lowest minimum is kept, whichever run that is."""
    runs = []
    for n, (x, y) in enumerate([(2.0, 1.0), (1.5, 3.0), (1.7, 1.2)]):
        path = tmp_path / f"run{n}.json"
        rows = [("dispatch/envelope", "native", x), ("dispatch/envelope", "floor", y)]
        path.write_text(json.dumps({"machine_info": {"node": "box"}, "benchmarks": [
            {"group": g, "name": name, "stats": {"min": v, "run": n}} for g, name, v in rows
        ]}))  # fmt: skip
        runs.append(path)
    merge_best(runs, tmp_path / "merged.json")
    merged = json.loads((tmp_path / "merged.json").read_text())
    got = {b["name"]: (b["stats"]["min"], b["stats"]["run"]) for b in merged["benchmarks"]}
    assert got == {"native": (1.5, 1), "floor": (1.0, 0)}
    assert merged["runs_merged"] == 3 and merged["machine_info"] == {"node": "box"}


def test_asyncio_run_adds_its_rows_when_present(tmp_path: Path, monkeypatch: Any) -> None:
    """``make bench`` measures end to end with uvicorn's default loop, then on
    asyncio's loop; the first rows name the loop that ran, and a report
    rebuilt without the second run (``--from-json``) still works."""
    keys = {key for *_, key in report.E2E_ROWS + report.ASYNCIO_ROWS} | {"client_cpu_us_per_rtt"}
    servers = ("falcon", "asgi", "native", "pure")

    def write(path: Path, value: float, loop: str) -> None:
        spread = {s: {k: [value, value + 1] for k in keys} for s in servers}
        path.write_text(
            json.dumps({"rounds": 5, "spread": spread, "best": {}, "server_loop": loop})
        )

    monkeypatch.setattr(report, "OUT", tmp_path)
    monkeypatch.setattr(report, "ASYNCIO_JSON", tmp_path / "e2e-asyncio.json")
    write(tmp_path / "e2e.json", 10.0, "uvloop")
    without = report.spread()
    assert "asyncio" not in without and "| round trips, 50 clients | 10 to 11 |" in without
    assert "| echo latency p50, 1 client (uvicorn on uvloop, its default loop here) |" in without
    write(tmp_path / "e2e-asyncio.json", 20.0, "asyncio")
    with_asyncio = report.spread()
    assert "| round trips, 50 clients, uvicorn on asyncio's loop | 20 to 21 |" in with_asyncio
    assert with_asyncio.startswith(without.split("\nThe load generator")[0])

"""``make bench``'s report: the in-process runs merged row by row."""

from __future__ import annotations

import json
from pathlib import Path

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

"""Smoke test of the real-server load script (tiny, so it fits in make test)."""

from __future__ import annotations

import argparse

from . import load_e2e
from .load_broadcast import run


async def test_load_script_runs_against_real_uvicorn() -> None:
    result = await run(clients=5, rounds=2, size=10)
    assert result["manager"] > 0 and result["floor"] > 0


async def test_e2e_load_script_runs_every_phase() -> None:
    """Tiny sizes, two servers: each in its own process, every figure measured."""
    args = argparse.Namespace(
        echo=20, clients=3, seconds=0.2, room=4, shouts=2, servers=["falcon", "native"], ws="auto",
        rounds=2,
    )  # fmt: skip
    results = await load_e2e.run(args)
    assert set(results["best"]) == set(results["spread"]) == {"falcon", "native"}
    assert results["rounds"] == 2
    for label, figures in results["best"].items():
        low, high = results["spread"][label]["rtt_per_s"]
        assert low <= figures["rtt_per_s"] == high
        assert figures["echo_p50_us"] > 0 and figures["rtt_per_s"] > 0
        assert figures["deliveries_per_s"] > 0 and "idle_kib_per_conn" in figures

"""Smoke test of the real-server load script (tiny, so it fits in make test)."""

from __future__ import annotations

from .load_broadcast import run


async def test_load_script_runs_against_real_uvicorn() -> None:
    result = await run(clients=5, rounds=2, size=10)
    assert result["manager"] > 0 and result["floor"] > 0

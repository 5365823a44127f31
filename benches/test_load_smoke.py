"""Smoke test of the real-server load script (tiny, so it fits in make test)."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from . import load_e2e
from .load_broadcast import run
from .wsclient import lean_connect


async def test_load_script_runs_against_real_uvicorn() -> None:
    result = await run(clients=5, rounds=2, size=10)
    assert result["manager"] > 0 and result["floor"] > 0


async def test_e2e_load_script_runs_every_phase() -> None:
    """Tiny sizes, two servers: each in its own process, every figure measured."""
    args = argparse.Namespace(
        echo=20, clients=3, seconds=0.2, room=4, shouts=2, servers=["falcon", "native"], ws="auto",
        rounds=2, compression="none", malloc="pinned", loop="asyncio",
    )  # fmt: skip
    results = await load_e2e.run(args)
    assert set(results["best"]) == set(results["spread"]) == {"falcon", "native"}
    assert results["rounds"] == 2
    assert results["compression"] == "none" and results["malloc"] == load_e2e.MALLOC["pinned"]
    for label, figures in results["best"].items():
        low, high = results["spread"][label]["rtt_per_s"]
        assert low <= figures["rtt_per_s"] == high
        assert figures["echo_p50_us"] > 0 and figures["rtt_per_s"] > 0
        assert figures["deliveries_per_s"] > 0 and "idle_kib_per_conn" in figures
        assert figures["client_cpu_us_per_rtt"] >= 0


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_lean_client_round_trips_every_frame_length(compression: str | None) -> None:
    """The load generator's own framing against real uvicorn: 7-bit, 16-bit
    and 64-bit lengths, masked, compressed with context takeover across
    messages (or not), answered intact and in order."""
    proc = load_e2e.start_server("package", "native", port := load_e2e.free_port(), "auto")
    try:
        url = f"ws://127.0.0.1:{port}"
        await load_e2e.wait_ready(url, proc)
        ws = await lean_connect(url + "/ws/echo", compression)
        assert (ws._deflate is not None) == (compression is not None)
        texts = ["x" * n for n in (3, 200, 70_000, 200, 3)]
        replies: list[str] = []
        done = asyncio.get_running_loop().create_future()

        def on_message(text: str) -> None:
            replies.append(text)
            if len(replies) == len(texts):
                done.set_result(None)

        ws.on_message = on_message
        for text in texts:
            ws.send_text(json.dumps({"type": "echo", "payload": {"text": text}}))
        async with asyncio.timeout(30):
            await done
        await load_e2e.close_all([ws])
        assert ws.closed.done()
    finally:
        load_e2e.stop_server(proc)
    assert [json.loads(r)["payload"]["text"] for r in replies] == texts


def test_servers_run_with_the_allocator_settings_asked_for(monkeypatch: Any) -> None:
    """``pinned`` reaches the server process; ``default`` strips what the
    caller's own environment set, so a run says what it measured."""
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    for malloc, expected in (("pinned", load_e2e.MALLOC["pinned"]), ("default", {})):
        proc = load_e2e.start_server("asgi", "native", load_e2e.free_port(), "auto", malloc)
        try:
            environ = _environ(proc.pid)
        finally:
            load_e2e.stop_server(proc)
        got = {k: v for k, v in environ.items() if k in load_e2e.MALLOC["pinned"]}
        assert got == expected


def _environ(pid: int) -> dict[str, str]:
    """The server's environment once it runs the server (before its exec,
    /proc shows the parent's copy), waiting at most 10 s."""
    deadline = time.monotonic() + 10
    while b"benches.e2e_apps" not in Path(f"/proc/{pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline, "the server process never started"
        time.sleep(0.01)
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode() for k, v in pairs}

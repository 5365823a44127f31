"""Workers under the ASGI lifespan of a real uvicorn (§5.9)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

import falcon_pachinko as fp

from ..support.server import running_server
from .worker_apps import heartbeat_app

ROOT = Path(__file__).resolve().parents[2]


async def test_heartbeat_worker_broadcasts_and_stops_with_the_app() -> None:
    controller = fp.WorkerController()
    async with running_server(heartbeat_app(controller)) as srv:
        assert controller.running
        async with connect(srv.ws_url + "/ws/ticks") as ws:
            beats = [json.loads(await asyncio.wait_for(ws.recv(), 2)) for _ in range(3)]
        assert [b["type"] for b in beats] == ["heartbeat"] * 3
        assert beats[0]["n"] < beats[1]["n"] < beats[2]["n"]
        started = time.monotonic()
    assert time.monotonic() - started < 5  # shutdown, workers included, is bounded
    assert not controller.running


async def test_supervised_worker_is_restarted_and_keeps_serving() -> None:
    attempts = {"n": 0}

    @fp.worker
    async def flaky(manager: fp.WebSocketConnectionManager) -> None:
        attempts["n"] += 1
        if attempts["n"] <= 2:
            raise ConnectionError("upstream not ready")
        while True:
            await manager.broadcast_to_room("ticks", {"type": "alive"}, timeout=1)
            await asyncio.sleep(0.05)

    failures: list[BaseException] = []
    controller = fp.WorkerController(restart=True, backoff=0.01, on_failure=failures.append)
    async with running_server(heartbeat_app(controller, flaky)) as srv:
        async with connect(srv.ws_url + "/ws/ticks") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 3)) == {"type": "alive"}
        assert controller.restarts == {flaky.__qualname__: 2}
    assert failures == []


def test_crashing_worker_makes_uvicorn_exit_non_zero_with_traceback() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.integration.worker_apps:crash_app",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--lifespan",
            "on",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "worker crashing failed" in proc.stderr or "crashing" in proc.stderr
    assert "Traceback" in proc.stderr
    assert "worker exploded on purpose" in proc.stderr


async def test_controller_contract() -> None:
    seen: dict[str, Any] = {}

    @fp.worker
    async def needs(manager: Any, *, label: str = "default") -> None:
        seen["args"] = (manager, label)
        await asyncio.sleep(10)

    controller = fp.WorkerController()
    await controller.start(needs, manager="m", unused="ignored")
    with pytest.raises(RuntimeError, match="already running"):
        await controller.start(needs, manager="m")
    await asyncio.sleep(0)
    assert seen["args"] == ("m", "default")
    await controller.stop()
    await controller.stop()  # idempotent
    await controller.start(needs, manager="again", label="x")  # restartable
    await asyncio.sleep(0)
    assert seen["args"] == ("again", "x")
    await controller.stop()

    @fp.worker
    async def wants_db(db: Any) -> None: ...

    with pytest.raises(fp.exceptions.WorkerContextError, match="'db'"):
        await fp.WorkerController().start(wants_db, manager="m")
    with pytest.raises(TypeError):
        fp.worker(lambda: None)  # type: ignore[arg-type,return-value]


async def test_stop_reraises_the_first_failure() -> None:
    @fp.worker
    async def boom() -> None:
        raise ValueError("first")

    controller = fp.WorkerController(on_failure="log")
    await controller.start(boom)
    await asyncio.sleep(0.01)
    with pytest.raises(ValueError, match="first"):
        await controller.stop()

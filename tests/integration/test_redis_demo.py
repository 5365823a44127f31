"""The chat demo on Redis: two ``python -m examples.chat --redis URL``
processes on different ports share rooms.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect

from ..support.redis_server import ROOT, RedisServer, free_port, wait_for_port


@pytest.fixture
def demo_ports() -> Iterator[tuple[int, int]]:
    server = RedisServer()
    server.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = (free_port(), free_port())
        for port in ports:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "examples.chat",
                        "--port",
                        str(port),
                        "--redis",
                        server.url,
                    ],
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port, proc in zip(ports, procs, strict=True):
            wait_for_port(port, 20, proc)
        yield ports
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=5)
        server.close()


async def test_two_demo_processes_share_a_room(demo_ports: tuple[int, int]) -> None:
    a_port, b_port = demo_ports
    async with (
        connect(f"ws://127.0.0.1:{a_port}/ws/chat/lobby", open_timeout=5) as a,
        connect(f"ws://127.0.0.1:{b_port}/ws/chat/lobby", open_timeout=5) as b,
    ):
        async with asyncio.timeout(10):
            while True:  # until B's join is known on A (presence settles)
                await a.send(json.dumps({"type": "say", "text": "hi from A"}))
                try:
                    while True:
                        msg = json.loads(await asyncio.wait_for(b.recv(), 0.5))
                        if msg.get("type") == "said":
                            break
                except TimeoutError:
                    continue
                break
        assert msg["text"] == "hi from A"

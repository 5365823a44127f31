"""The README's snippets, run as written (so the README stays true).

Each snippet is extracted from README.md and imported as its own module, the
way ``uvicorn myapp:app`` would import it, then served by a real uvicorn with
real ``websockets`` clients. ``tests/typing/test_mypy.py`` type-checks the
same text.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

import falcon_pachinko as fp

from ..support.server import running_server
from ..typing.readme import load, unload


@pytest.fixture
def quick_start(tmp_path: Path) -> Iterator[ModuleType]:
    module = load("Quick start", tmp_path)
    yield module
    unload(module)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[ModuleType]:
    module = load("Workers and lifespan", tmp_path)
    yield module
    unload(module)


async def recv_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_quick_start_serves_a_chat_room_under_uvicorn(quick_start: ModuleType) -> None:
    assert quick_start.manager is fp.connection_manager(quick_start.app)
    async with running_server(quick_start.app) as srv:
        url = srv.ws_url + "/ws/chat/lobby"
        async with connect(url) as alice, connect(url) as bob:
            # Both have joined once bob's connection is open (joined in on_connect).
            await alice.send(json.dumps({"type": "say", "payload": {"text": "hi"}}))
            assert await recv_json(bob) == {"type": "said", "text": "hi"}
            assert await recv_json(alice) == {"type": "said", "text": "hi"}
            await bob.send(json.dumps({"type": "ping"}))
            assert await recv_json(bob) == {"type": "pong"}
            assert quick_start.manager.room_size("lobby") == 2


async def test_quick_start_resource_in_the_simulator(
    quick_start: ModuleType, simulator_harness: fp.SimulatorRouterHarness
) -> None:
    """The README's testing snippet, against the Quick start's ChatRoom."""
    simulator_harness.router.add_route("/chat/{room}", quick_start.ChatRoom)
    async with (
        simulator_harness.connect("/chat/lobby") as alice,
        simulator_harness.connect("/chat/lobby") as bob,
    ):
        await alice.send_json({"type": "say", "payload": {"text": "hi"}})
        assert await bob.receive_json() == {"type": "said", "text": "hi"}


class TickListener(fp.WebSocketResource):
    """Test scaffolding: a client in the room the README's heartbeat publishes to."""

    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room("ticks")
        return True


async def test_workers_snippet_runs_its_worker_under_a_real_lifespan(
    workers: ModuleType,
) -> None:
    # The snippet's heartbeat waits 5 s between beats; shorten the default so
    # the test sees several beats quickly. Everything else runs as written.
    workers.heartbeat.__defaults__ = (0.02,)
    router = fp.WebSocketRouter()
    router.add_route("/ticks", TickListener)
    router.mount("/ws", app=workers.app)
    controller: fp.WorkerController = workers.controller
    assert not controller.running
    async with running_server(workers.app) as srv:
        assert controller.running  # started by the snippet's @fp.lifespan
        async with connect(srv.ws_url + "/ws/ticks") as ws:
            beats = [await recv_json(ws) for _ in range(2)]
        assert beats == [{"type": "heartbeat"}] * 2
    assert not controller.running  # stopped by the same lifespan, without a failure


@pytest.fixture
def rooms(tmp_path: Path) -> Iterator[ModuleType]:
    module = load("Rooms and broadcast", tmp_path)
    yield module
    unload(module)


async def test_rooms_snippet_delivers_and_reports(rooms: ModuleType) -> None:
    from ..support.stubs import StubWS

    manager = rooms.manager
    assert manager is fp.connection_manager(rooms.app)
    me, other = StubWS(), StubWS()
    await manager.add_connection("me", me)
    await manager.add_connection("other", other)
    await manager.join_room("me", "lobby")
    await manager.join_room("other", "lobby")
    result = await rooms.announce("me")
    assert result == fp.DeliveryResult(recipients=1, sent=1)
    news, all_ = '{"type":"news"}', '{"type":"hello, everyone"}'
    assert other.frames == [news, news, all_]
    assert me.frames == [news, all_, '{"type":"dm"}', '{"type":"pre-encoded"}']

"""The router's own receive path (issue 13) through real uvicorn and clients.

For the connections it serves the router reads the server's ASGI receive
itself instead of Falcon's per-message pump; these tests pin the Falcon
internals that relies on and that disconnects are still noticed at once,
whether the connection is idle or a handler is busy.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import falcon.asgi
import pytest
from falcon.asgi.ws import _BufferedReceiver, _WebSocketState
from websockets.asyncio.client import connect

import falcon_pachinko as fp
from falcon_pachinko._owned_ws import OwnedWebSocket
from falcon_pachinko._receive import own_receive

from ..support.server import RunningServer, running_server

BOUND = 5.0  # seconds; every wait below is bounded by it


class Probe(fp.WebSocketResource):
    """Records what the tests look at; ``hold`` blocks until released."""

    events: dict[str, Any] = {}
    log: list[Any] = []
    classes: list[type] = []

    async def on_ping(self, ws: Any, payload: Any) -> None:
        pump = getattr(ws._buffered_receiver, "_pump_task", None)
        self.log.append(("pump", pump is not None))
        self.classes.append(type(ws))
        await ws.send_media({"type": "pong", "n": payload})

    async def on_hold(self, ws: Any, payload: Any) -> None:
        self.events["held"] = ws
        await ws.send_media({"type": "holding"})
        self.log.append(("closed-at-start", ws.closed))
        await self.events["release"].wait()
        self.log.append(("closed-after-release", ws.closed))

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        self.log.append(("disconnect", close_code, ws.closed))
        self.events["gone"].set()


class Buffered(Probe):
    buffered_receive = True


@pytest.fixture
async def served() -> AsyncIterator[RunningServer]:
    Probe.events = {"release": asyncio.Event(), "gone": asyncio.Event()}
    Probe.log = []
    Probe.classes = []
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/probe", Probe)
    router.add_route("/buffered", Buffered)
    router.mount("/ws", app=app)
    async with running_server(app) as srv:
        yield srv


async def wait_until(predicate: Any) -> None:
    async with asyncio.timeout(BOUND):
        while not predicate():
            await asyncio.sleep(0.005)


def test_falcon_internals_relied_on_exist() -> None:
    """The private names ``own_receive`` uses (Falcon 4.0-4.4); if a Falcon
    release drops one, this fails and the loop falls back to the buffer."""
    slots = ("_asgi_receive", "_max_queue", "_pump_task", "client_disconnected")
    for name in (*slots, "client_disconnected_code"):
        assert name in _BufferedReceiver.__slots__
    # what Falcon's WebSocket calls on the receiver the router puts in place
    assert callable(_BufferedReceiver.start) and callable(_BufferedReceiver.stop)
    for name in ("_buffered_receiver", "_asgi_receive", "_state", "_close_code"):
        assert name in falcon.asgi.WebSocket.__slots__
    assert _WebSocketState.CLOSED
    assert own_receive(object()) is None  # anything else: the caller's own path


async def test_no_pump_task_and_app_options_untouched(served: RunningServer) -> None:
    async with connect(served.ws_url + "/ws/probe") as client:
        await client.send(json.dumps({"type": "ping", "payload": 1}))
        assert json.loads(await asyncio.wait_for(client.recv(), BOUND))["n"] == 1
    async with connect(served.ws_url + "/ws/buffered") as client:
        await client.send(json.dumps({"type": "ping", "payload": 2}))
        assert json.loads(await asyncio.wait_for(client.recv(), BOUND))["n"] == 2
    # the router's connections run without Falcon's pump; the opt-out keeps it
    assert [e for e in Probe.log if e[0] == "pump"] == [("pump", False), ("pump", True)]
    # and the owned socket sends in one coroutine (_owned_ws); the opt-out's
    # socket is Falcon's own, untouched
    assert Probe.classes == [OwnedWebSocket, falcon.asgi.WebSocket]
    assert issubclass(OwnedWebSocket, falcon.asgi.WebSocket)


@pytest.mark.parametrize("path", ["/ws/probe", "/ws/buffered"])
async def test_idle_disconnect_is_noticed(served: RunningServer, path: str) -> None:
    async with connect(served.ws_url + path) as client:
        await client.send(json.dumps({"type": "ping", "payload": 1}))
        await asyncio.wait_for(client.recv(), BOUND)
    await asyncio.wait_for(Probe.events["gone"].wait(), BOUND)
    assert Probe.log[-1] == ("disconnect", 1000, True)


@pytest.mark.parametrize("path", ["/ws/probe", "/ws/buffered"])
async def test_disconnect_while_handler_busy(served: RunningServer, path: str) -> None:
    """A busy handler is not cancelled: ``ws.closed`` turns true while it
    runs (so it can stop early, and its sends raise), frames sent before
    the close are still dispatched, and on_disconnect runs once it returns.
    """
    async with connect(served.ws_url + path) as client:
        await client.send(json.dumps({"type": "hold"}))
        assert json.loads(await asyncio.wait_for(client.recv(), BOUND))["type"] == "holding"
        await client.send(json.dumps({"type": "ping", "payload": 7}))
    # the handler is still blocked, yet the socket already knows
    await wait_until(lambda: Probe.events["held"].closed)
    assert not Probe.events["gone"].is_set()
    Probe.events["release"].set()
    await asyncio.wait_for(Probe.events["gone"].wait(), BOUND)
    assert Probe.log[0] == ("closed-at-start", False)
    assert Probe.log[1] == ("closed-after-release", True)
    # the frame sent before the close was dispatched (its reply could not go)
    assert Probe.log[2][0] == "pump"
    assert Probe.log[3:] == [("disconnect", 1000, True)]

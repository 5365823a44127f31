"""Graceful shutdown: lifespan shutdown closes open sockets with 1001 (§5.7)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import falcon.asgi
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import falcon_pachinko as fp

from ..support.asgi import make_scope
from ..support.server import running_server


class Tracked(fp.WebSocketResource):
    codes: list[int] = []

    async def on_ping(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"pong": True})

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        self.codes.append(close_code)


def build() -> falcon.asgi.App:
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/t", Tracked)
    router.mount("/ws", app=app)
    return app


async def test_lifespan_shutdown_closes_open_connections_with_1001() -> None:
    """Driven at the ASGI level: sockets still open when lifespan shutdown runs."""
    Tracked.codes = []
    app = build()
    lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan_out: list[dict[str, Any]] = []

    async def lifespan_send(event: dict[str, Any]) -> None:
        lifespan_out.append(event)

    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan_in.get, lifespan_send)
    )
    await lifespan_in.put({"type": "lifespan.startup"})
    sent: list[list[dict[str, Any]]] = [[], [], []]
    tasks = []
    for i in range(3):
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "websocket.connect"})

        async def send(event: dict[str, Any], i: int = i) -> None:
            sent[i].append(event)

        tasks.append(asyncio.create_task(app(make_scope("/ws/t"), inbox.get, send)))
    async with asyncio.timeout(5):
        while not all(s and s[0]["type"] == "websocket.accept" for s in sent):
            await asyncio.sleep(0.01)
    await lifespan_in.put({"type": "lifespan.shutdown"})
    async with asyncio.timeout(10):
        await asyncio.gather(*tasks)
        while len(lifespan_out) < 2:
            await asyncio.sleep(0.01)
    assert [e["type"] for e in lifespan_out] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    for events in sent:
        assert (events[-1]["type"], events[-1]["code"]) == ("websocket.close", 1001)
    assert sorted(Tracked.codes) == [1001, 1001, 1001]
    lifespan.cancel()


async def test_uvicorn_shutdown_ends_every_connection_in_bounded_time() -> None:
    """uvicorn closes sockets itself (1012) before lifespan shutdown; on_disconnect
    still runs once per connection."""
    Tracked.codes = []
    async with running_server(build()) as srv:
        clients = [await connect(srv.ws_url + "/ws/t") for _ in range(5)]
        for ws in clients:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv()) == {"pong": True}
    for ws in clients:
        try:
            async with asyncio.timeout(5):
                await ws.recv()
        except ConnectionClosed:
            pass
        assert ws.close_code in (1001, 1012)
    assert len(Tracked.codes) == 5

"""End to end through real uvicorn and real websockets clients (§5.2-§5.4)."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator
from typing import Any

import falcon.asgi
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import falcon_pachinko as fp

from ..support.server import RunningServer, running_server
from .apps import Chat, build_app


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    async with running_server(build_app()) as srv:
        yield srv


async def recv_json(ws: Any) -> Any:
    return json.loads(await ws.recv(decode=True))


async def test_chat_broadcast_and_echo(server: RunningServer) -> None:
    url = server.ws_url + "/ws/chat/lobby"
    async with connect(url) as a, connect(url) as b, connect(server.ws_url + "/ws/chat/other") as c:
        await a.send(json.dumps({"type": "ping", "payload": {"n": 1}}))
        assert await recv_json(a) == {"type": "pong", "payload": {"n": 1}}
        await b.send(json.dumps({"type": "say", "payload": {"text": "hello"}}))
        assert await recv_json(a) == {"type": "said", "text": "hello"}
        assert await recv_json(b) == {"type": "said", "text": "hello"}
        await c.send(json.dumps({"type": "ping"}))
        assert await recv_json(c) == {"type": "pong", "payload": None}  # not in lobby


async def test_schema_format_over_the_wire(server: RunningServer) -> None:
    async with connect(server.ws_url + "/ws/calc") as ws:
        await ws.send(json.dumps({"type": "add", "a": 2, "b": 3}))
        assert await recv_json(ws) == {"sum": 5}
        await ws.send(json.dumps({"a": 4, "type": "neg"}))
        assert await recv_json(ws) == {"neg": -4}
        await ws.send(json.dumps({"type": "add", "a": "x", "b": 3}))
        assert await recv_json(ws) == {"type": "unhandled"}


async def test_three_level_nesting_with_context(server: RunningServer) -> None:
    async with connect(server.ws_url + "/ws/orgs/o1/teams/t2/members/7") as ws:
        await ws.send(json.dumps({"type": "whoami"}))
        assert await recv_json(ws) == {
            "lineage": "acme>team",
            "params": {"org": "o1", "team": "t2", "member": 7},
        }


async def test_rejecting_on_connect_gives_403(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(server.ws_url + "/ws/chat/forbidden"):
            pass
    assert info.value.response.status_code == 403


async def test_unknown_path_is_refused(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(server.ws_url + "/ws/nowhere"):
            pass


async def test_subprotocol_chosen_in_on_connect(server: RunningServer) -> None:
    async with connect(server.ws_url + "/ws/chat/x", subprotocols=["other", "chat.v1"]) as ws:
        assert ws.subprotocol == "chat.v1"


BAD_INPUTS = [
    ("not json", "text"),
    ("[1, 2, 3]", "text"),
    ('{"payload": {}}', "text"),
    ('{"type": 42}', "text"),
    ('{"type": "nobody-handles-this"}', "text"),
    ('{"type": "say", "payload": {"txt": "typo"}}', "text"),
    (b"not json", "binary"),  # binary frames are decoded like text (§6.2)
]


@pytest.mark.parametrize(("frame", "kind"), BAD_INPUTS)
async def test_bad_input_goes_to_on_unhandled_and_others_keep_working(
    server: RunningServer, frame: str | bytes, kind: str
) -> None:
    url = server.ws_url + "/ws/chat/bad"
    async with connect(url) as bad, connect(url) as good:
        await bad.send(frame)
        assert await recv_json(bad) == {"type": "unhandled", "kind": kind}
        await good.send(json.dumps({"type": "ping", "payload": 1}))
        assert await recv_json(good) == {"type": "pong", "payload": 1}
        await bad.send(json.dumps({"type": "ping", "payload": 2}))  # still served
        assert await recv_json(bad) == {"type": "pong", "payload": 2}


async def test_oversized_frame_closes_1009(server: RunningServer) -> None:
    url = server.ws_url + "/ws/chat/big"
    async with connect(url) as big, connect(url) as good:
        await big.send(json.dumps({"type": "say", "payload": {"text": "x" * 10_000}}))
        with pytest.raises(ConnectionClosed):
            await big.recv()
        assert big.close_code == 1009
        await good.send(json.dumps({"type": "ping"}))
        assert await recv_json(good) == {"type": "pong", "payload": None}


async def test_handler_exception_closes_1011_and_is_logged(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.ws_url + "/ws/chat/err"
    async with connect(url) as victim, connect(url) as bystander:
        await victim.send(json.dumps({"type": "boom"}))
        with pytest.raises(ConnectionClosed):
            await victim.recv()
        assert victim.close_code == 1011
        await bystander.send(json.dumps({"type": "ping", "payload": "still here"}))
        assert await recv_json(bystander) == {"type": "pong", "payload": "still here"}
    failures = [r for r in caplog.records if "handler failed" in r.getMessage()]
    assert failures and "Chat" in failures[0].getMessage()
    assert failures[0].exc_info is not None


async def test_disconnect_runs_on_disconnect_once_and_unregisters() -> None:
    seen: list[int] = []

    class Tracked(Chat):
        async def on_disconnect(self, ws: Any, close_code: int) -> None:
            seen.append(close_code)

    app = falcon.asgi.App()
    manager = fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/t/{room}", Tracked)
    router.mount("/", app=app)
    async with running_server(app) as srv:
        async with connect(srv.ws_url + "/t/r1") as ws:
            await ws.send(json.dumps({"type": "ping"}))
            await ws.recv()
            assert manager.room_size("r1") == 1
            await ws.close(4001)
        for _ in range(200):
            if seen:
                break
            await __import__("asyncio").sleep(0.01)
    assert seen == [4001]
    assert manager.room_size("r1") == 0
    assert manager.stats()["connections"] == 0


async def test_add_route_with_path_converter_mounting() -> None:
    """The documented alternative: Falcon route ``/ws/{path:path}`` to the router."""
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/chat/{room}", Chat)
    app.add_route("/ws/{path:path}", router)
    async with running_server(app) as srv, connect(srv.ws_url + "/ws/chat/a") as ws:
        await ws.send(json.dumps({"type": "ping", "payload": "via add_route"}))
        assert await recv_json(ws) == {"type": "pong", "payload": "via add_route"}


async def test_install_on_plain_app_and_deprecated_routes() -> None:
    app = falcon.asgi.App()
    manager = fp.install(app)
    assert fp.install(app) is manager  # idempotent
    assert app.ws_connection_manager is manager  # type: ignore[attr-defined]
    assert fp.connection_manager(app) is manager
    assert isinstance(app, falcon.asgi.App)
    with pytest.warns(DeprecationWarning):
        app.add_websocket_route("/legacy/{room}", Chat)  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert isinstance(app.create_websocket_resource("/legacy/{room}"), Chat)  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="No WebSocket resource registered"):
            app.create_websocket_resource("/none")  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="already registered"):
            app.add_websocket_route("/legacy/{room}", Chat)  # type: ignore[attr-defined]
    async with running_server(app) as srv, connect(srv.ws_url + "/legacy/r") as ws:
        await ws.send(json.dumps({"type": "ping", "payload": "legacy"}))
        assert await recv_json(ws) == {"type": "pong", "payload": "legacy"}


async def test_plain_http_to_the_mount_is_426(server: RunningServer) -> None:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /ws/chat/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert b" 426 " in status

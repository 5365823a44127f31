"""Input side of §6.2 through real uvicorn and real ``websockets`` clients."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import falcon.asgi
import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import falcon_pachinko as fp

from ..support.server import RunningServer, running_server


class Say(msgspec.Struct):
    text: str


class Strict(fp.WebSocketResource):
    max_frame_size = 1024
    subprotocol = ("chat.v2", "chat.v1")  # preference order

    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        return room != "forbidden"

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        await ws.send_media({"type": "said", "text": payload.text})

    async def on_whoami(self, ws: Any, payload: None) -> None:
        await ws.send_media({"type": "you", "id": self.connection_id})

    async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
        await ws.send_media({"type": "invalid", "error": type(error).__name__})

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        await ws.send_media({"type": "unhandled"})


def build_app() -> falcon.asgi.App:
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/rooms/{room}", Strict)
    router.mount("/ws", app=app)
    return app


@pytest.fixture
async def served() -> AsyncIterator[tuple[RunningServer, falcon.asgi.App]]:
    app = build_app()
    async with running_server(app) as srv:
        yield srv, app


async def reply(ws: Any) -> Any:
    async with asyncio.timeout(5):
        return json.loads(await ws.recv(decode=True))


async def test_missing_payload_takes_the_validation_path_not_1011(
    served: tuple[RunningServer, Any],
) -> None:
    srv, _app = served
    async with connect(srv.ws_url + "/ws/rooms/a") as ws:
        await ws.send(json.dumps({"type": "say"}))
        assert await reply(ws) == {"type": "invalid", "error": "ValidationError"}
        await ws.send(json.dumps({"type": "say", "payload": {"text": "still here"}}))
        assert await reply(ws) == {"type": "said", "text": "still here"}


async def test_exactly_one_reply_per_bad_frame(served: tuple[RunningServer, Any]) -> None:
    srv, _app = served
    async with connect(srv.ws_url + "/ws/rooms/a") as ws:
        for frame in ['{"type": "say", "payload": {"txt": 1}}', "{oops", '{"type": "nobody"}']:
            await ws.send(frame)
        await ws.send(json.dumps({"type": "say", "payload": {"text": "end"}}))
        replies = [await reply(ws) for _ in range(4)]
    assert [r["type"] for r in replies] == ["invalid", "invalid", "unhandled", "said"]


async def test_binary_frames_dispatch_and_are_held_to_the_size_limit(
    served: tuple[RunningServer, Any],
) -> None:
    srv, _app = served
    async with connect(srv.ws_url + "/ws/rooms/a") as ws:
        await ws.send(b'{"type": "say", "payload": {"text": "bin"}}')
        assert await reply(ws) == {"type": "said", "text": "bin"}
        await ws.send(b'{"type": "say", "payload": {"text": "' + b"x" * 2000 + b'"}}')
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                await ws.recv()
    assert ws.close_code == 1009
    # the client can tell why, and what the limit is
    assert ws.close_reason == "frame too large (limit 1024 bytes)"


async def test_bad_input_is_logged_and_counted_per_reason(
    served: tuple[RunningServer, Any], caplog: pytest.LogCaptureFixture
) -> None:
    srv, app = served
    manager = fp.connection_manager(app)
    with caplog.at_level(logging.DEBUG, logger="falcon_pachinko"):
        async with connect(srv.ws_url + "/ws/rooms/a") as ws:
            await ws.send('{"type": "whoami"}')
            conn_id = (await reply(ws))["id"]
            await ws.send("{oops")
            await ws.send('{"type": "nobody"}')
            await ws.send('{"type": "say"}')
            for _ in range(3):
                await reply(ws)
            per_conn = manager.connection_stats(conn_id)["unhandled_frames"]
        async with asyncio.timeout(5):
            while manager.stats()["connections"]:
                await asyncio.sleep(0.01)
    expected = {"invalid_json": 1, "unknown_type": 1, "validation": 1}
    assert per_conn == expected
    assert manager.stats()["unhandled_frames"] == expected
    dispatch_lines = [
        r.getMessage() for r in caplog.records if r.name == "falcon_pachinko.dispatch"
    ]
    assert len(dispatch_lines) == 3
    assert all(f"connection={conn_id}" in m and "path=/ws/rooms/a" in m for m in dispatch_lines)
    conn_lines = [r.getMessage() for r in caplog.records if r.name == "falcon_pachinko.connection"]
    assert any(m.startswith("connection accepted") for m in conn_lines)
    assert any(m.startswith("connection closed") for m in conn_lines)


async def test_subprotocol_only_from_the_clients_offer(
    served: tuple[RunningServer, Any],
) -> None:
    srv, _app = served
    async with connect(srv.ws_url + "/ws/rooms/a") as ws:  # offers none
        assert ws.subprotocol is None
        await ws.send(json.dumps({"type": "say", "payload": {"text": "ok"}}))
        assert await reply(ws) == {"type": "said", "text": "ok"}
    async with connect(srv.ws_url + "/ws/rooms/a", subprotocols=["x", "chat.v1"]) as ws:
        assert ws.subprotocol == "chat.v1"
    async with connect(srv.ws_url + "/ws/rooms/a", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"  # the resource's preference wins


async def test_rejections_say_why(
    served: tuple[RunningServer, Any], caplog: pytest.LogCaptureFixture
) -> None:
    srv, _app = served
    with caplog.at_level(logging.DEBUG, logger="falcon_pachinko.connection"):
        with pytest.raises(InvalidStatus) as forbidden:
            async with connect(srv.ws_url + "/ws/rooms/forbidden"):
                pass
        with pytest.raises(InvalidStatus) as missing:
            async with connect(srv.ws_url + "/ws/nowhere"):
                pass
    assert forbidden.value.response.status_code == 403
    assert missing.value.response.status_code == 404
    messages = [r.getMessage() for r in caplog.records]
    assert any("rejected by on_connect" in m and "/ws/rooms/forbidden" in m for m in messages)
    assert any("no route" in m and "/ws/nowhere" in m for m in messages)
    # the server is unharmed: a good connection still works
    async with connect(srv.ws_url + "/ws/rooms/a") as ws:
        await ws.send(json.dumps({"type": "say", "payload": {"text": "ok"}}))
        assert await reply(ws) == {"type": "said", "text": "ok"}

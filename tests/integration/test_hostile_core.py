"""Hostile clients against a real uvicorn server (issue 10, items 1, 2, 4),
with a bystander chatting in the same room throughout.

1. TCP resets while ``on_connect`` awaits an auth lookup leave no
   connection and no room member behind.
2. Many distinct long spellings of one convention tag leave the class's
   dispatch caches and tag table as they were.
4. With ``max_depth`` raised far past Python's recursion limit, a deep
   payload takes the validation path; the connection stays usable.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import falcon.asgi
from websockets.asyncio.client import ClientConnection, connect

import falcon_pachinko as fp

from ..support.raw import dispatcher_sizes, reset, send_upgrade
from ..support.server import running_server

ROOM = "chat"
RESETS = 100


class Chat(fp.WebSocketResource):
    max_depth = 100_000  # raised far above what Python's recursion allows
    started = 0

    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room(ROOM)
        type(self).started += 1
        await asyncio.sleep(0.05)  # an auth lookup: the peer may vanish meanwhile
        return True

    async def on_ping(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"pong": payload})

    @fp.handles_message("nest")
    async def nest(self, ws: Any, payload: list[Any]) -> None:
        await ws.send_media({"nested": len(payload)})

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: str) -> None:
        await self.broadcast_to_room(ROOM, {"said": payload})

    async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
        await ws.send_media({"invalid": type(error).__name__})


def make_app() -> tuple[falcon.asgi.App, fp.WebSocketConnectionManager]:
    app = falcon.asgi.App()
    manager = fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/chat", Chat)
    router.mount("/ws", app=app)
    return app, manager


async def chat_round(bystander: ClientConnection, text: str) -> None:
    """The bystander says something and hears it back, bounded."""
    await bystander.send(json.dumps({"type": "say", "payload": text}))
    async with asyncio.timeout(5):
        assert json.loads(await bystander.recv()) == {"said": text}


async def test_resets_during_a_suspending_on_connect_leave_no_ghosts() -> None:
    Chat.started = 0
    app, manager = make_app()
    async with running_server(app) as srv:
        bystander = await connect(f"{srv.ws_url}/ws/chat")
        async with asyncio.timeout(5):
            while manager.room_size(ROOM) < 1 or Chat.started < 1:
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)  # the bystander's handshake has completed
        await chat_round(bystander, "before")
        for batch in range(RESETS // 20):
            socks = [await send_upgrade(srv.port, "/ws/chat") for _ in range(20)]
            async with asyncio.timeout(5):  # every one of them is inside on_connect
                while Chat.started < 1 + 20 * (batch + 1):
                    await asyncio.sleep(0.002)
            for sock in socks:
                reset(sock)
            await chat_round(bystander, f"during-{batch}")
        async with asyncio.timeout(5):
            while manager.room_size(ROOM) > 1 or manager.stats()["connections"] > 1:
                await asyncio.sleep(0.01)
        assert manager.room_size(ROOM) == 1
        assert manager.stats()["connections"] == 1
        assert len(manager.backend.websockets) == 1
        await chat_round(bystander, "after")
        await bystander.close()
        async with asyncio.timeout(5):
            while manager.stats()["connections"]:
                await asyncio.sleep(0.01)


async def test_distinct_long_tag_spellings_leave_the_caches_flat() -> None:
    app, _manager = make_app()
    async with running_server(app) as srv:
        bystander = await connect(f"{srv.ws_url}/ws/chat")
        attacker = await connect(f"{srv.ws_url}/ws/chat", max_size=None)
        await chat_round(bystander, "hello")
        async with asyncio.timeout(5):  # the attacker is in the room too
            assert json.loads(await attacker.recv()) == {"said": "hello"}
        before = dispatcher_sizes(Chat)
        for i in range(1100):  # 1,100 distinct 10 KiB spellings of "ping"
            tag = "." * i + "ping" + "-" * (10_240 - i)
            await attacker.send(json.dumps({"type": tag, "payload": i}))
            if i % 100 == 99:
                async with asyncio.timeout(10):
                    assert json.loads(await attacker.recv()) == {"pong": i - 99}
                    for j in range(i - 98, i + 1):
                        assert json.loads(await attacker.recv()) == {"pong": j}
                await bystander.send(json.dumps({"type": "ping", "payload": "b"}))
                async with asyncio.timeout(5):
                    assert json.loads(await bystander.recv()) == {"pong": "b"}
        assert dispatcher_sizes(Chat) == before
        await attacker.close()
        await bystander.close()


async def test_deep_payload_on_raised_max_depth_takes_the_validation_path() -> None:
    app, manager = make_app()
    async with running_server(app) as srv:
        bystander = await connect(f"{srv.ws_url}/ws/chat")
        client = await connect(f"{srv.ws_url}/ws/chat")
        await chat_round(bystander, "hi")
        deep = '{"type": "nest", "payload": ' + "[" * 20_000 + "]" * 20_000 + "}"
        await client.send(deep)
        async with asyncio.timeout(5):
            assert json.loads(await client.recv()) == {"said": "hi"}
            assert json.loads(await client.recv()) == {"invalid": "RecursionError"}
        await client.send(json.dumps({"type": "nest", "payload": [[1], [2]]}))
        async with asyncio.timeout(5):
            assert json.loads(await client.recv()) == {"nested": 2}
        await chat_round(bystander, "still here")
        assert manager.stats()["unhandled_frames"].get("too_deep") == 1
        await client.close()
        await bystander.close()

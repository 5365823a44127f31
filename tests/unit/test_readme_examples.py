"""The README's examples, run as written (so the README stays true)."""

from __future__ import annotations

from typing import Any

import falcon.asgi
import msgspec

import falcon_pachinko as fp


class Say(msgspec.Struct):
    text: str


class ChatRoom(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        self.room = room
        await self.join_room(room)
        return True

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        await self.broadcast_to_room(self.room, {"type": "said", "text": payload.text})

    async def on_ping(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"type": "pong"})


def test_quick_start_app_builds() -> None:
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/chat/{room}", ChatRoom)
    router.mount("/ws", app=app)
    assert app.ws_connection_manager is fp.connection_manager(app)  # type: ignore[attr-defined]


async def test_say_is_broadcast(simulator_harness: fp.SimulatorRouterHarness) -> None:
    simulator_harness.router.add_route("/chat/{room}", ChatRoom)
    async with (
        simulator_harness.connect("/chat/lobby") as alice,
        simulator_harness.connect("/chat/lobby") as bob,
    ):
        await alice.send_json({"type": "say", "payload": {"text": "hi"}})
        assert await bob.receive_json() == {"type": "said", "text": "hi"}
        assert await alice.receive_json() == {"type": "said", "text": "hi"}
        await bob.send_json({"type": "ping"})
        assert await bob.receive_json() == {"type": "pong"}

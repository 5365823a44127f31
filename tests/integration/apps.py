"""Falcon apps served by real uvicorn in the integration tests."""

from __future__ import annotations

from typing import Any

import falcon.asgi
import msgspec

import falcon_pachinko as fp


class Say(msgspec.Struct):
    text: str


class Chat(fp.WebSocketResource):
    """Envelope format: join a room on connect, echo and broadcast."""

    max_frame_size = 4096

    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        if room == "forbidden":
            return False
        self.room = room
        self.subprotocol = "chat.v1" if "chat.v1" in ws.subprotocols else None
        await self.join_room(room)
        return True

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        await self.broadcast_to_room(self.room, {"type": "said", "text": payload.text})

    async def on_ping(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"type": "pong", "payload": payload})

    async def on_boom(self, ws: Any, payload: Any) -> None:
        raise RuntimeError("handler bug")

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        kind = "text" if isinstance(message, str) else "binary"
        await ws.send_media({"type": "unhandled", "kind": kind})


class Add(msgspec.Struct, tag="add"):
    a: int
    b: int


class Neg(msgspec.Struct, tag="neg"):
    a: int


class Calc(fp.WebSocketResource):
    """Schema (flat tagged) format."""

    schema = Add | Neg

    @fp.handles_message("add")
    async def add(self, ws: Any, msg: Add) -> None:
        await ws.send_media({"sum": msg.a + msg.b})

    async def on_neg(self, ws: Any, msg: Neg) -> None:
        await ws.send_media({"neg": -msg.a})

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        await ws.send_media({"type": "unhandled"})


class Org(fp.WebSocketResource):
    def __init__(self) -> None:
        self.add_subroute("/teams/{team}", Team)

    def get_child_context(self) -> dict[str, Any]:
        return {"org_name": "acme"}


class Team(fp.WebSocketResource):
    def __init__(self, org_name: str) -> None:
        self.org_name = org_name
        self.add_subroute("/members/{member:int}", Member)

    def get_child_context(self) -> dict[str, Any]:
        return {"lineage": f"{self.org_name}>team"}


class Member(fp.WebSocketResource):
    def __init__(self, lineage: str) -> None:
        self.lineage = lineage

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        self.params = params
        return True

    async def on_whoami(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"lineage": self.lineage, "params": self.params})


def build_app() -> falcon.asgi.App:
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/chat/{room}", Chat, name="chat")
    router.add_route("/calc", Calc)
    router.add_route("/orgs/{org}", Org)
    router.mount("/ws", app=app)
    return app

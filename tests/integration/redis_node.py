"""One cluster node for the Redis tests: ``python -m tests.integration.redis_node
REDIS_URL PORT [PREFIX]`` serves it with uvicorn on 127.0.0.1:PORT.

``/ws/{room}?user=U`` joins ``room`` (and tags the connection with user U).
Messages: ``say`` (broadcast to the room, ``exclude_self`` honoured),
``all``, ``dm`` (``send_to_user``), ``direct`` (``send_to_connection``),
``ask`` (presence as this node sees it), ``whoami``.
"""

from __future__ import annotations

import sys
from typing import Any

import falcon.asgi
import msgspec
import uvicorn

import falcon_pachinko as fp
from falcon_pachinko.backends.redis import RedisBackend


class Say(msgspec.Struct):
    text: str
    exclude_self: bool = False


class Dm(msgspec.Struct):
    user: str
    text: str


class Direct(msgspec.Struct):
    conn: str
    text: str


class Ask(msgspec.Struct):
    room: str = ""
    user: str = ""


class Node(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        self.room = room
        await self.join_room(room)
        user = req.get_param("user")
        if user:
            await self.set_user(user)
        manager = self._mgr()
        assert isinstance(manager.backend, RedisBackend) and self.connection_id is not None
        self.state = manager.backend.state_for(self.connection_id)
        return True

    def _mgr(self) -> fp.WebSocketConnectionManager:
        assert self._manager is not None
        return self._manager

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        await self.broadcast_to_room(
            self.room,
            {"type": "said", "text": payload.text, "from": self.connection_id},
            exclude_self=payload.exclude_self,
        )

    @fp.handles_message("all")
    async def all_(self, ws: Any, payload: Say) -> None:
        await self._mgr().broadcast_to_all({"type": "all", "text": payload.text})

    @fp.handles_message("dm")
    async def dm(self, ws: Any, payload: Dm) -> None:
        await self._mgr().send_to_user(payload.user, {"type": "dm", "text": payload.text})

    @fp.handles_message("direct")
    async def direct(self, ws: Any, payload: Direct) -> None:
        try:
            await self._mgr().send_to_connection(
                payload.conn, {"type": "direct", "text": payload.text}
            )
        except fp.WebSocketConnectionNotFoundError:
            await ws.send_media({"type": "not_found", "conn": payload.conn})

    @fp.handles_message("ask")
    async def ask(self, ws: Any, payload: Ask) -> None:
        manager = self._mgr()
        await ws.send_media(
            {
                "type": "presence",
                "size": manager.room_size(payload.room or self.room),
                "members": manager.room_members(payload.room or self.room),
                "user": manager.user_connections(payload.user) if payload.user else [],
                "bus": manager.stats()["bus"],
            }
        )

    @fp.handles_message("remember")
    async def remember(self, ws: Any, payload: dict[str, Any]) -> None:
        self.state.update(payload)

    @fp.handles_message("recall")
    async def recall(self, ws: Any, payload: Direct) -> None:
        backend = self._mgr().backend
        assert isinstance(backend, RedisBackend)
        await ws.send_media({"type": "state", "state": await backend.read_state(payload.conn)})

    @fp.handles_message("whoami")
    async def whoami(self, ws: Any, payload: Ask) -> None:
        await ws.send_media({"type": "me", "id": self.connection_id})


def create_app(redis_url: str, prefix: str = "test") -> falcon.asgi.App:
    app = falcon.asgi.App()
    fp.install(app, backend=RedisBackend(redis_url, channel_prefix=prefix, ttl=1.5))
    router = fp.WebSocketRouter()
    router.add_route("/{room}", Node)
    router.mount("/ws", app=app)
    return app


if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    prefix = sys.argv[3] if len(sys.argv) > 3 else "test"
    uvicorn.run(create_app(url, prefix), host="127.0.0.1", port=port, log_level="warning")

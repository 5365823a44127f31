"""The chat demo: rooms, broadcast, presence, and a heartbeat worker.

Run with ``make demo`` (or ``python -m examples.chat``) and open
http://127.0.0.1:8000 in two browser tabs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import falcon
import falcon.asgi
import msgspec

import falcon_pachinko as fp

PAGE = (Path(__file__).parent / "index.html").read_bytes()


class Say(msgspec.Struct):
    text: str


class Rename(msgspec.Struct):
    name: str


class ChatRoom(fp.WebSocketResource):
    """``/ws/chat/{room}``: everyone in a room sees what anyone says."""

    max_frame_size = 16 * 1024

    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        self.room = room
        self.name = f"guest-{(self.connection_id or '?').rsplit('-', 1)[-1]}"
        await self.join_room(room)
        await self.broadcast_to_room(room, {"type": "joined", "name": self.name}, exclude_self=True)
        return True

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        text = payload.text.strip()[:500]
        if text:
            await self.broadcast_to_room(
                self.room, {"type": "said", "name": self.name, "text": text}
            )

    @fp.handles_message("rename")
    async def rename(self, ws: Any, payload: Rename) -> None:
        old, self.name = self.name, payload.name.strip()[:32] or self.name
        await self.broadcast_to_room(self.room, {"type": "renamed", "old": old, "name": self.name})

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        await ws.send_media({"type": "error", "detail": "unknown or invalid message"})

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        manager = self._manager
        if manager is not None and self.connection_id is not None:
            await manager.leave_room(self.connection_id, self.room)
            await manager.publish_to_room(self.room, {"type": "left", "name": self.name})


class Page:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = PAGE


@fp.worker
async def presence(manager: fp.WebSocketConnectionManager, interval: float = 5.0) -> None:
    """Every few seconds, tell each room how many people are in it."""
    while True:
        for room in manager.get_rooms_by_prefix(""):
            await manager.publish_to_room(
                room, {"type": "presence", "count": manager.room_size(room)}
            )
        await asyncio.sleep(interval)


def create_app(backend: fp.ConnectionBackend | None = None) -> falcon.asgi.App:
    app = falcon.asgi.App()
    manager = fp.install(app, backend=backend)  # None: in-process (the default)
    app.add_route("/", Page())
    router = fp.WebSocketRouter(name="chat")
    router.add_route("/chat/{room}", ChatRoom, name="room")
    router.mount("/ws", app=app)
    workers = fp.WorkerController(restart=True)

    @fp.lifespan(app)
    async def run_workers() -> AsyncIterator[None]:
        await workers.start(presence, manager=manager)
        yield
        await workers.stop()

    return app

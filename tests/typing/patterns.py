"""Documented patterns that must type-check under ``mypy --strict`` (DESIGN §6.5).

This module is checked, not run: ``make typecheck`` includes it (pyproject's
``[tool.mypy] files``) and ``tests/typing/test_mypy.py`` runs mypy on it, so
a change to the public annotations that breaks one of these patterns fails
the build. Each block names the user code it stands for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import assert_type

import falcon.asgi
import msgspec

import falcon_pachinko as fp


class Say(msgspec.Struct):
    text: str


# A resource declares exactly the route parameters it takes, with Falcon's
# precise request and socket types: not an override error.
class ChatRoom(fp.WebSocketResource):
    async def on_connect(
        self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket, room: str
    ) -> bool:
        self.room = room
        await self.join_room(room)
        return True

    @fp.handles_message("say")
    async def say(self, ws: falcon.asgi.WebSocket, payload: Say) -> None:
        await self.broadcast_to_room(self.room, {"type": "said", "text": payload.text})


# Nested routes: several keyword parameters, a converter's int among them.
class Member(fp.WebSocketResource):
    async def on_connect(
        self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket, *, org: str, member_id: int
    ) -> bool:
        return bool(org) and member_id > 0


# No route parameters at all.
class Lobby(fp.WebSocketResource):
    async def on_connect(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> bool:
        return True


app = falcon.asgi.App()
installed = fp.install(app)
assert_type(installed, fp.WebSocketConnectionManager)
# The app's manager, precisely typed, wherever the app is at hand.
assert_type(fp.connection_manager(app), fp.WebSocketConnectionManager)

router = fp.WebSocketRouter()
router.add_route("/chat/{room}", ChatRoom)
router.add_route("/orgs/{org}/members/{member_id:int}", Member)
router.add_route("/lobby", Lobby)
router.mount("/ws", app=app)


@fp.worker
async def heartbeat(manager: fp.WebSocketConnectionManager, interval: float = 5.0) -> None:
    while True:
        await manager.publish_to_room("ticks", {"type": "heartbeat"})
        await asyncio.sleep(interval)


controller = fp.WorkerController(restart=True, max_restarts=3)


# A lifespan annotated the usual way (AsyncIterator) ...
@fp.lifespan(app)
async def workers() -> AsyncIterator[None]:
    await controller.start(heartbeat, manager=fp.connection_manager(app))
    yield
    await controller.stop()


# ... or as an AsyncGenerator, taking the app.
@fp.lifespan(app)
async def with_app(
    app: falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response],
) -> AsyncGenerator[None, None]:
    fp.connection_manager(app)
    yield


# A resource factory: the DI container's method, or any callable taking the
# route's partial (one type, ``fp.ResourceFactory``, for both).
container = fp.ServiceContainer()
container.register("greeting", "hi")
di_router = fp.WebSocketRouter(resource_factory=container.create_resource)
logged_router = fp.WebSocketRouter(resource_factory=lambda route: route())
factory: fp.ResourceFactory = container.create_resource

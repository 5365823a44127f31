"""Apps for the worker tests; ``crash_app`` is served by a uvicorn subprocess."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import falcon.asgi

import falcon_pachinko as fp


class Listener(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room("ticks")
        return True


@fp.worker
async def heartbeat(manager: fp.WebSocketConnectionManager, interval: float = 0.05) -> None:
    n = 0
    while True:
        await manager.broadcast_to_room("ticks", {"type": "heartbeat", "n": n}, timeout=1)
        n += 1
        await asyncio.sleep(interval)


def heartbeat_app(controller: fp.WorkerController, *workers: Any) -> falcon.asgi.App:
    app = falcon.asgi.App()
    manager = fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/ticks", Listener)
    router.mount("/ws", app=app)

    @fp.lifespan(app)
    async def run_workers() -> AsyncIterator[None]:
        await controller.start(*(workers or (heartbeat,)), manager=manager)
        yield
        await controller.stop()

    return app


@fp.worker
async def crashing() -> None:
    await asyncio.sleep(0.3)
    raise RuntimeError("worker exploded on purpose")


def _crash() -> falcon.asgi.App:
    return heartbeat_app(fp.WorkerController(), crashing)


crash_app = _crash()

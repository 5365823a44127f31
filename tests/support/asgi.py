"""A minimal ASGI WebSocket driver: connect, N text frames, disconnect.

It feeds Falcon's ASGI app directly (no network), so a benchmark measures
the framework and the library, not sockets.
"""

from __future__ import annotations

import asyncio
from typing import Any


def make_scope(path: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "subprotocols": [],
    }


async def drive(app: Any, path: str, frames: list[str]) -> list[dict[str, Any]]:
    """Run one connection through ``app``; the events the app sent."""
    events: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    events += [{"type": "websocket.receive", "text": f} for f in frames]
    events.append({"type": "websocket.disconnect", "code": 1000})
    it = iter(events)
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        try:
            return next(it)
        except StopIteration:
            await done.wait()
            return {"type": "websocket.disconnect", "code": 1000}

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    await app(make_scope(path), receive, send)
    done.set()
    return sent


async def ping_pong(app: Any, path: str, frame: str, count: int) -> int:
    """One connection answering ``count`` frames, each handed over in a later
    event-loop turn than the answer before it (as uvicorn's ``receive``
    does when a client waits for each answer): the app's receive suspends
    on every frame. Returns the number of answers the app sent."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    queue.put_nowait({"type": "websocket.connect"})
    message = {"type": "websocket.receive", "text": frame}
    answers = 0

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(event: dict[str, Any]) -> None:
        nonlocal answers
        if event["type"] == "websocket.send":
            answers += 1
        elif event["type"] != "websocket.accept":
            return
        # the next frame arrives in a later loop turn, as from a socket
        if answers < count:
            loop.call_soon(queue.put_nowait, message)
        else:
            loop.call_soon(queue.put_nowait, {"type": "websocket.disconnect", "code": 1000})

    async with asyncio.timeout(60):
        await app(make_scope(path), receive, send)
    return answers

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

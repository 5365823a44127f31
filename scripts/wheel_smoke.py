"""Smoke test of an *installed* falcon-pachinko: routing, dispatch, broadcast.

Run by ``scripts/check_wheels.py`` in a fresh virtualenv after installing one
wheel or sdist, and by the release workflow on each platform. It imports only
the installed package, Falcon and msgspec (never the source tree or the test
suite), so it must be run from a directory that has no ``falcon_pachinko``
folder in it.

Usage: ``python wheel_smoke.py native|pure``. It drives a real
``falcon.asgi.App`` over ASGI in-process (no sockets, so it is fast and needs
no uvicorn): two clients join a room through a mounted router, one sends a
typed message, both receive the broadcast. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import falcon.asgi
import msgspec

import falcon_pachinko as fp
from falcon_pachinko import _accel

TIMEOUT = 10.0


# Module level: handler annotations are resolved against module globals.
class Say(msgspec.Struct):
    text: str


class Room(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        self.room = room
        await self.join_room(room)
        return True

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        await self.broadcast_to_room(self.room, {"type": "said", "text": payload.text})


def _scope(path: str) -> dict[str, Any]:
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


class _Client:
    """One ASGI WebSocket connection: queues in both directions."""

    def __init__(self, app: Any, path: str) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.task = asyncio.create_task(app(_scope(path), self.inbox.get, self.outbox.put))

    async def expect(self, kind: str) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT):
            event = await self.outbox.get()
        assert event["type"] == kind, (kind, event)
        return event

    def send(self, text: str) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": text})

    async def close(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        async with asyncio.timeout(TIMEOUT):
            await self.task


async def _run() -> None:
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/chat/{room}", Room)
    router.mount("/ws", app=app)

    alice = _Client(app, "/ws/chat/lobby")
    await alice.expect("websocket.accept")
    bob = _Client(app, "/ws/chat/lobby")
    await bob.expect("websocket.accept")
    alice.send('{"type": "say", "payload": {"text": "hi"}}')
    for client in (alice, bob):
        event = await client.expect("websocket.send")
        frame = event.get("text") or event.get("bytes") or ""
        assert msgspec.json.decode(frame) == {"type": "said", "text": "hi"}, event
    await alice.close()
    await bob.close()


def main(expected: str) -> None:
    assert expected == fp.IMPLEMENTATION, (fp.IMPLEMENTATION, expected)
    assert ("falcon_pachinko._native" in sys.modules) == (expected == "native")
    assert _accel.scan_frame('{"type":"ping","payload":[1]}') == ("ping", b"[1]")
    asyncio.run(_run())
    print(f"smoke ok: falcon-pachinko {fp.__version__} {fp.IMPLEMENTATION} from {fp.__file__}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("native", "pure"):
        raise SystemExit("usage: wheel_smoke.py native|pure")
    main(sys.argv[1])

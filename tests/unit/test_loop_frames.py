"""The per-frame call chain of the owned receive loop (issue 13, end to end).

Each layer between the receive loop and the server, or between the loop and
a handler, costs a coroutine or generator per frame. These tests pin the
layers the loop is down to, through a real ``falcon.asgi.App`` driven in
process: the server's ``receive`` is awaited one coroutine below the loop,
and a handler that does not suspend runs directly under the loop (no
wrapper); one that does suspend still completes, with the read-ahead
started, and is not cancelled.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import falcon.asgi
import msgspec

import falcon_pachinko as fp

from ..support.asgi import make_scope

FRAME = '{"type":"say","payload":{"text":"hi"}}'
SLOW = '{"type":"slow","payload":{"text":"hi"}}'


class Say(msgspec.Struct):
    text: str


def callers(frame: Any, depth: int) -> list[str]:
    """Names of the ``depth`` frames above ``frame`` (nearest first)."""
    names = []
    for _ in range(depth):
        frame = frame.f_back
        names.append(frame.f_code.co_name if frame is not None else "")
    return names


class Chain(fp.WebSocketResource):
    seen: list[Any] = []

    async def on_say(self, ws: Any, payload: Say) -> None:
        self.seen.append(("handler", callers(sys._getframe(), 1)))
        self.seen.append(("buffer", ws._buffered_receiver._ahead))

    async def on_slow(self, ws: Any, payload: Say) -> None:
        await asyncio.sleep(0)
        self.seen.append(("slow", ws._buffered_receiver._task is not None))


async def run(frames: list[str]) -> list[Any]:
    Chain.seen = []
    app = falcon.asgi.App()
    router = fp.WebSocketRouter()
    router.add_route("/chain", Chain)
    router.mount("/ws", app=app)
    events: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    events += [{"type": "websocket.receive", "text": f} for f in frames]
    events.append({"type": "websocket.disconnect", "code": 1000})
    it = iter(events)

    async def receive() -> dict[str, Any]:
        event = next(it)
        if event["type"] == "websocket.receive":
            Chain.seen.append(("receive", callers(sys._getframe(), 2)))
        return event

    async def send(event: dict[str, Any]) -> None:
        pass

    async with asyncio.timeout(5):
        await app(make_scope("/ws/chain"), receive, send)
    return Chain.seen


async def test_server_receive_is_one_coroutine_below_the_loop() -> None:
    seen = await run([FRAME, FRAME])
    receives = [names for kind, names in seen if kind == "receive"]
    assert receives == [["next_event", "_owned_loop"]] * 2


async def test_a_handler_that_does_not_suspend_runs_directly_under_the_loop() -> None:
    seen = await run([FRAME, FRAME])
    assert [entry for entry in seen if entry[0] == "handler"] == [
        ("handler", ["_owned_loop"]),
        ("handler", ["_owned_loop"]),
    ]


async def test_a_handler_that_suspends_completes_with_the_read_ahead_started() -> None:
    seen = await run([SLOW, FRAME])
    assert ("slow", True) in seen
    assert [entry for entry in seen if entry[0] == "handler"] == [("handler", ["_owned_loop"])]


async def test_a_connection_that_never_read_ahead_carries_no_buffer() -> None:
    """Idle memory per connection: the read-ahead deque (~0.7 KiB) exists
    only once a handler suspended."""
    seen = await run([FRAME])
    assert ("buffer", None) in seen

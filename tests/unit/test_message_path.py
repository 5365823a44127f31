"""One message path (issue 13): every frame is scanned exactly once.

The dispatcher's tag table is wrapped in a counter; each kind of frame goes
through ``resource.dispatch`` and through the receive loop of a real
``falcon.asgi.App`` (in process), and must cost one scan and reach exactly
one outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import falcon.asgi
import msgspec
import pytest

import falcon_pachinko as fp
from falcon_pachinko._dispatch import Dispatcher

from ..support.asgi import drive


class Say(msgspec.Struct):
    text: str


class Counting:
    """Delegates to the real table (native or pure) and counts scans."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.scans = 0

    def route(self, frame: Any) -> Any:
        self.scans += 1
        return self.table.route(frame)

    def scan(self, frame: Any) -> Any:
        self.scans += 1
        return self.table.scan(frame)


class Chat(fp.WebSocketResource):
    max_depth = 4
    outcomes: list[str] = []

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        self.outcomes.append("say")

    async def on_send_message(self, ws: Any, payload: Say) -> None:
        self.outcomes.append("send_message")

    async def on_keyword(self, ws: Any, extra: Any = None, *, payload: Say) -> None:
        self.outcomes.append("keyword")

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        self.outcomes.append("unhandled")

    async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
        self.outcomes.append("invalid")


FRAMES: dict[str, tuple[str | bytes, str]] = {
    "handled": ('{"type":"say","payload":{"text":"hi"}}', "say"),
    "binary handled": (b'{"type":"say","payload":{"text":"hi"}}', "say"),
    "keyword parameter": ('{"type":"keyword","payload":{"text":"hi"}}', "keyword"),
    "usual convention spelling": ('{"type":"sendMessage","payload":{"text":"x"}}', "send_message"),
    # not one of the table's spellings: resolved from the scan's own result
    "other convention spelling": ('{"type":"SEND_MESSAGE","payload":{"text":"x"}}', "send_message"),
    "convention, bad payload": ('{"type":"SEND_MESSAGE","payload":{"t":1}}', "invalid"),
    "unknown type": ('{"type":"nope","payload":{}}', "unhandled"),
    "invalid JSON": ('{"type":"say",', "invalid"),
    "not an object": ("[1,2]", "invalid"),
    "missing type": ('{"payload":{}}', "invalid"),
    "validation failure": ('{"type":"say","payload":{"text":3}}', "invalid"),
    "too deep": ('{"type":"say","payload":[[[[[[1]]]]]]}', "invalid"),
}


@pytest.fixture
def counting() -> Iterator[Counting]:
    dispatcher: Dispatcher = Chat._dispatcher
    real = dispatcher.table
    counter = Counting(real)
    dispatcher.table = counter
    Chat.outcomes = []
    try:
        yield counter
    finally:
        dispatcher.table = real


@pytest.mark.parametrize("name", list(FRAMES))
async def test_resource_dispatch_scans_once(counting: Counting, name: str) -> None:
    frame, outcome = FRAMES[name]
    await Chat().dispatch(object(), frame)
    assert counting.scans == 1
    assert Chat.outcomes == [outcome]


@pytest.mark.parametrize("name", list(FRAMES))
def test_receive_loop_scans_once(counting: Counting, name: str) -> None:
    frame, outcome = FRAMES[name]
    app = falcon.asgi.App()
    router = fp.WebSocketRouter()
    router.add_route("/chat", Chat)
    router.mount("/ws", app=app)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(_drive_one(app, frame), 10))
    finally:
        loop.close()
    assert counting.scans == 1
    assert Chat.outcomes == [outcome]


async def _drive_one(app: falcon.asgi.App, frame: str | bytes) -> None:
    if isinstance(frame, bytes):
        await drive_bytes(app, "/ws/chat", frame)
    else:
        await drive(app, "/ws/chat", [frame])


async def drive_bytes(app: Any, path: str, frame: bytes) -> None:
    """``drive`` with one binary frame."""
    from ..support.asgi import make_scope

    events = iter(
        [
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "bytes": frame},
            {"type": "websocket.disconnect", "code": 1000},
        ]
    )

    async def receive() -> dict[str, Any]:
        return next(events)

    async def send(event: dict[str, Any]) -> None:
        return None

    await app(make_scope(path), receive, send)

"""dispatch/<format>: frames per connection through Falcon's ASGI app.

Rows: this library with the native and the pure frame scan, and the floor:
a hand-written Falcon ``on_websocket`` loop that decodes each frame with
msgspec into a tagged union and looks the handler up in a dict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import falcon.asgi
import msgspec
import pytest
from tests.support.asgi import drive

import falcon_pachinko as fp
from falcon_pachinko import _accel, _native, _pure

N = 5000
COUNT = {"n": 0}


class Chat(msgspec.Struct, tag="chat"):
    text: str
    room: str


class Typing(msgspec.Struct, tag="typing"):
    room: str


class ChatPayload(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    room: str


class EnvelopeResource(fp.WebSocketResource):
    @fp.handles_message("chat")
    async def chat(self, ws: Any, payload: ChatPayload) -> None:
        COUNT["n"] += 1


class SchemaResource(fp.WebSocketResource):
    schema = Chat | Typing

    @fp.handles_message("chat")
    async def chat(self, ws: Any, msg: Chat) -> None:
        COUNT["n"] += 1


class Floor:
    """What a careful user writes by hand with Falcon and msgspec."""

    decoder = msgspec.json.Decoder(Chat | Typing)

    def __init__(self) -> None:
        self.handlers: dict[type, Callable[[Any], Any]] = {Chat: self.chat}

    async def chat(self, msg: Chat) -> None:
        COUNT["n"] += 1

    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        decode, handlers = self.decoder.decode, self.handlers
        try:
            while True:
                msg = decode(await ws.receive_text())
                await handlers[type(msg)](msg)
        except falcon.WebSocketDisconnected:
            return


ENVELOPE = '{"type":"chat","payload":{"text":"hello there","room":"lobby"}}'
FLAT = '{"type":"chat","text":"hello there","room":"lobby"}'


def use_table(resource: type[fp.WebSocketResource], impl: Any) -> None:
    """Rebuild the class's tag table with the chosen implementation."""
    d = resource._dispatcher
    routes = [(e, e.decode if e.fn is not None else None) for e in d.entries]
    t = d.table
    d.table = impl.TagTable(
        d._slots,
        key=t.key,
        max_size=t.max_size,
        max_depth=t.max_depth,
        routes=routes,
        whole_frame=t.whole_frame,
    )


def library_app(resource: type[fp.WebSocketResource], impl: Any) -> falcon.asgi.App:
    use_table(resource, impl)
    app = falcon.asgi.App()
    router = fp.WebSocketRouter()
    router.add_route("/r", resource)
    router.mount("/ws", app=app)
    return app


def floor_app() -> falcon.asgi.App:
    app = falcon.asgi.App()
    app.add_route("/ws/r", Floor())
    return app


CASES: dict[str, tuple[Callable[[], falcon.asgi.App], str]] = {
    "envelope/native": (lambda: library_app(EnvelopeResource, _native), ENVELOPE),
    "envelope/pure": (lambda: library_app(EnvelopeResource, _pure), ENVELOPE),
    "envelope/floor": (floor_app, FLAT),
    "schema/native": (lambda: library_app(SchemaResource, _native), FLAT),
    "schema/pure": (lambda: library_app(SchemaResource, _pure), FLAT),
    "schema/floor": (floor_app, FLAT),
}


@pytest.mark.parametrize("case", list(CASES))
def test_dispatch_throughput(benchmark: Any, case: str) -> None:
    fmt, impl = case.split("/")
    benchmark.group = f"dispatch/{fmt} ({N} frames/connection)"
    benchmark.name = impl
    build, frame = CASES[case]
    app = build()
    frames = [frame] * N
    loop = asyncio.new_event_loop()
    try:

        def run() -> None:
            COUNT["n"] = 0
            loop.run_until_complete(drive(app, "/ws/r", frames))

        benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=1)
        assert COUNT["n"] == N  # every frame of the last run reached its handler
    finally:
        loop.close()
        # restore the active implementation's table for other tests
        for resource in (EnvelopeResource, SchemaResource):
            library_app(resource, _accel)

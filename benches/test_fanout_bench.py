"""fanout/<n>: one broadcast to a room of n stub connections, in-process.

Rows (same run, same stubs): the manager's ``publish_to_room`` with the
native and the pure hub, and the floor: encode once, then a plain Python
loop of ``await send(event)``. Each stub is an ASGI-style ``send`` coroutine
that counts what it gets (``counting``), or also frames the text like a
server (``framing``). With ``falcon`` stubs the connections are real
``falcon.asgi.WebSocket`` objects over counting ASGI sends, and the floor is
what a user writes: encode once, ``await ws.send_text(text)`` per member.
``enqueue/<n>`` measures the hub's step alone with every connection busy
(frames queued under the overflow policy).
Divide the times by n for the cost per recipient.
"""

from __future__ import annotations

import asyncio
from typing import Any

import falcon.asgi
import msgspec
import pytest
from falcon.asgi.ws import WebSocket

from falcon_pachinko import WebSocketConnectionManager, _native, _pure

SIZES = [100, 1_000, 10_000, 100_000]
MESSAGE = {"type": "tick", "payload": {"seq": 1, "text": "hello room"}}


class Stub:
    """Counting stub: the least a send can do."""

    __slots__ = ("closed", "count", "last")

    def __init__(self) -> None:
        self.count = 0
        self.closed = False
        self.last = b""

    async def asgi_send(self, event: dict[str, Any]) -> None:
        self.count += 1


class FramingStub(Stub):
    """Framing stub: what a server minimally does per send (encode the text,
    build an RFC 6455 frame header, hand the bytes to a transport buffer).
    """

    __slots__ = ()

    async def asgi_send(self, event: dict[str, Any]) -> None:
        data = event["text"].encode()
        size = len(data)
        header = bytes((0x81, size)) if size < 126 else b"\x81\x7e" + size.to_bytes(2, "big")
        self.last = header + data
        self.count += 1

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        self.closed = True


def build(
    n: int,
    impl: Any,
    loop: asyncio.AbstractEventLoop,
    stub: type[Stub],
    sockets: list[Any] | None = None,
) -> tuple[Any, list[Stub]]:
    manager = WebSocketConnectionManager(outbox_size=4)
    manager.hub = impl.FanoutHub(capacity=4, policy="drop_oldest")
    manager.backend._hub = manager.hub  # bind the chosen implementation
    stubs = [stub() for _ in range(n)]
    members: list[Any] = sockets if sockets is not None else stubs

    async def setup() -> None:
        for i, ws in enumerate(members):
            await manager.add_connection(f"c{i}", ws)
            await manager.join_room(f"c{i}", "room")

    loop.run_until_complete(setup())
    return manager, stubs


@pytest.fixture(scope="module")
def loop() -> Any:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


CASES = (
    [("counting", n) for n in SIZES]
    + [("framing", n) for n in (1_000, 10_000)]
    + [("falcon", n) for n in (100, 1_000, 10_000)]
)


def falcon_sockets(stubs: list[Stub], loop: asyncio.AbstractEventLoop) -> list[Any]:
    """Accepted ``falcon.asgi.WebSocket`` objects whose ASGI send is a stub's."""
    options = falcon.asgi.App().ws_options

    async def receive() -> dict[str, Any]:  # pragma: no cover - never awaited
        raise AssertionError("benchmark sockets are never read")

    async def make() -> list[Any]:
        sockets = []
        for stub in stubs:
            ws = WebSocket(
                "2.3",
                {"type": "websocket", "subprotocols": []},
                receive,
                stub.asgi_send,
                options.media_handlers,
                0,
                options.default_close_reasons,
            )
            await ws.accept()
            sockets.append(ws)
        return sockets

    return loop.run_until_complete(make())


@pytest.mark.parametrize("impl", ["native", "pure", "floor"])
@pytest.mark.parametrize(("kind", "n"), CASES)
def test_broadcast(
    benchmark: Any, loop: asyncio.AbstractEventLoop, kind: str, n: int, impl: str
) -> None:
    benchmark.group = f"fanout/{n} ({kind} stub)"
    benchmark.name = impl
    stub_cls = FramingStub if kind == "framing" else Stub
    encode = msgspec.json.Encoder().encode
    if impl == "floor" and kind == "falcon":
        stubs = [stub_cls() for _ in range(n)]
        sockets = falcon_sockets(stubs, loop)

        async def falcon_floor() -> None:
            text = encode(MESSAGE).decode()
            for ws in sockets:
                await ws.send_text(text)

        run = falcon_floor
    elif impl == "floor":
        stubs = [stub_cls() for _ in range(n)]
        sends = [s.asgi_send for s in stubs]

        async def floor() -> None:
            event = {"type": "websocket.send", "text": encode(MESSAGE).decode()}
            for send in sends:
                await send(event)

        run = floor
    else:
        sockets = None
        if kind == "falcon":
            stubs = [stub_cls() for _ in range(n)]
            sockets = falcon_sockets(stubs, loop)
        manager, built = build(n, _native if impl == "native" else _pure, loop, stub_cls, sockets)
        stubs = stubs if sockets is not None else built

        async def publish() -> None:
            await manager.publish_to_room("room", MESSAGE)

        run = publish
    rounds = 20 if n <= 10_000 else 5
    benchmark.pedantic(lambda: loop.run_until_complete(run()), rounds=rounds, warmup_rounds=1)
    assert all(s.count == stubs[0].count > 0 for s in stubs)


@pytest.mark.parametrize("impl", ["native", "pure"])
@pytest.mark.parametrize("n", [1_000, 10_000])
def test_enqueue_step(benchmark: Any, n: int, impl: str) -> None:
    benchmark.group = f"enqueue/{n} (all busy, hub step only)"
    benchmark.name = impl
    mod = _native if impl == "native" else _pure
    hub = mod.FanoutHub(capacity=1 << 30, policy="drop_oldest")
    for i in range(n):
        hub.add(f"c{i}", None, pending=True)  # queueing, as writing peers do
        hub.join(f"c{i}", "room")
    event = {"type": "websocket.send", "text": "x"}
    result = benchmark.pedantic(hub.fanout_room, args=("room", event), rounds=20, warmup_rounds=1)
    assert result.sent == 0 and len(result.queued) == n

"""The per-frame call chain of the owned receive loop (issue 13, end to end).

Each layer between the receive loop and the server, or between the loop and
a handler, costs a coroutine or generator per frame, and every coroutine
above the loop is suspended and resumed with it. These tests pin the layers
the loop is down to, through a real ``falcon.asgi.App`` driven in process:
the loop is the top of a task of its own, the server's ``receive`` is
awaited directly by it, and a handler runs under the loop's ``runner``
generator (no ``StopIteration`` per frame); one that suspends still
completes, with the read-ahead started, gets what it awaited, and is
reached by a cancellation or fails as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
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
        self.seen.append(("handler", callers(sys._getframe(), 2)))
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


async def test_server_receive_is_awaited_by_the_loop_at_the_top_of_its_task() -> None:
    """No coroutine between the loop and the server's receive, and none above
    the loop: its caller is the event loop stepping the task (asyncio's
    ``Handle._run``), not Falcon's app or the router."""
    seen = await run([FRAME, FRAME])
    receives = [names for kind, names in seen if kind == "receive"]
    assert receives == [["_owned_loop", "_run"]] * 2


async def test_a_handler_runs_under_the_loops_runner() -> None:
    seen = await run([FRAME, FRAME])
    assert [entry for entry in seen if entry[0] == "handler"] == [
        ("handler", ["runner", "_owned_loop"]),
        ("handler", ["runner", "_owned_loop"]),
    ]


async def test_a_handler_that_suspends_completes_with_the_read_ahead_started() -> None:
    seen = await run([SLOW, FRAME])
    assert ("slow", True) in seen
    assert [entry for entry in seen if entry[0] == "handler"] == [
        ("handler", ["runner", "_owned_loop"])
    ]


async def test_a_connection_that_never_read_ahead_carries_no_buffer() -> None:
    """Idle memory per connection: the read-ahead deque (~0.7 KiB) exists
    only once a handler suspended."""
    seen = await run([FRAME])
    assert ("buffer", None) in seen


class Awaits(fp.WebSocketResource):
    """Handlers that suspend in the ways the runner must forward."""

    seen: list[Any] = []
    futures: list[asyncio.Future[int]] = []
    var: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")

    async def on_connect(self, req: Any, ws: Any) -> bool:
        self.var.set("connected")
        self.seen.append(("connect task", asyncio.current_task()))
        return True

    async def on_twice(self, ws: Any, payload: Any) -> None:
        # each await suspends; each answer must come back through the runner
        got = [await self.futures[0], await self.futures[1]]
        self.seen.append(("twice", got, self.var.get()))
        self.seen.append(("handler task", asyncio.current_task()))

    async def on_fail(self, ws: Any, payload: Any) -> None:
        await asyncio.sleep(0)
        raise ValueError("after a suspension")

    async def on_hang(self, ws: Any, payload: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.seen.append(("hang", "cancelled"))
            raise

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        self.seen.append(("disconnect", close_code))


def awaits_app() -> Any:
    app = falcon.asgi.App()
    router = fp.WebSocketRouter()
    router.add_route("/awaits", Awaits)
    router.mount("/ws", app=app)
    return app


async def serve(frames: list[str]) -> tuple[asyncio.Task[None], list[dict[str, Any]]]:
    """The app serving ``frames`` then waiting (no disconnect): its task and sends."""
    Awaits.seen = []
    loop = asyncio.get_running_loop()
    Awaits.futures = [loop.create_future(), loop.create_future()]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for event in [{"type": "websocket.connect"}] + [
        {"type": "websocket.receive", "text": f} for f in frames
    ]:
        queue.put_nowait(event)
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    task = asyncio.ensure_future(awaits_app()(make_scope("/ws/awaits"), queue.get, send))
    return task, sent


async def settle(predicate: Any) -> None:
    async with asyncio.timeout(5):
        while not predicate():
            await asyncio.sleep(0)


async def test_a_suspended_handler_gets_each_answer_and_the_connection_context() -> None:
    """What the handler awaits comes back through the runner; the loop's own
    task started with the context on_connect left (a contextvar it set)."""
    task, _ = await serve(['{"type":"twice"}'])
    await asyncio.sleep(0.01)
    Awaits.futures[0].set_result(1)
    await asyncio.sleep(0.01)
    Awaits.futures[1].set_result(2)
    await settle(lambda: any(e[0] == "twice" for e in Awaits.seen))
    assert ("twice", [1, 2], "connected") in Awaits.seen
    tasks = dict(e for e in Awaits.seen if e[0].endswith("task"))
    assert tasks["handler task"] is not tasks["connect task"]  # the loop's own task
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_handler_failing_after_a_suspension_closes_with_1011(caplog: Any) -> None:
    task, sent = await serve(['{"type":"fail"}'])
    async with asyncio.timeout(5):
        await task
    assert {"type": "websocket.close", "code": 1011} in [
        {k: e[k] for k in ("type", "code")} for e in sent if e["type"] == "websocket.close"
    ]
    assert ("disconnect", 1011) in Awaits.seen
    assert "after a suspension" in caplog.text


async def test_cancelling_the_connection_reaches_a_suspended_handler() -> None:
    """The server cancelling the connection's task (uvicorn's shutdown) is
    delivered into the handler through the loop's task and the runner, and
    on_disconnect still runs (1001) before the cancellation propagates."""
    task, _ = await serve(['{"type":"hang"}'])
    await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task
    assert task.cancelled()
    assert ("hang", "cancelled") in Awaits.seen and ("disconnect", 1001) in Awaits.seen


class Later:
    """An awaitable that is not a coroutine: suspends once, then records."""

    def __init__(self, seen: list[Any], raw: str | bytes) -> None:
        self.seen, self.raw = seen, raw

    def __await__(self) -> Any:
        yield None  # one turn of the event loop, as asyncio.sleep(0) does
        self.seen.append(self.raw)
        return "done"


class Custom(fp.WebSocketResource):
    seen: list[Any] = []

    def dispatch(self, ws: Any, raw: str | bytes) -> Any:  # type: ignore[override]
        """A user's override returning an awaitable object, not a coroutine."""
        self.seen.append(("read-ahead", ws._buffered_receiver._task is not None))
        return Later(self.seen, raw)


async def test_a_dispatch_override_returning_any_awaitable_is_awaited() -> None:
    Custom.seen = []
    app = falcon.asgi.App()
    router = fp.WebSocketRouter()
    router.add_route("/custom", Custom)
    router.mount("/ws", app=app)
    from ..support.asgi import drive

    async with asyncio.timeout(5):
        await drive(app, "/ws/custom", [FRAME, SLOW])
    assert [e for e in Custom.seen if not isinstance(e, tuple)] == [FRAME, SLOW]
    # the first frame's awaitable suspended: the read-ahead ran for the second
    assert ("read-ahead", True) in Custom.seen

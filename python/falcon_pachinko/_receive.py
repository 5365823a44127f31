"""The router's own receive path for ``falcon.asgi.WebSocket`` connections.

Falcon reads every event through a pump task and ``asyncio.wait`` per
message (``_BufferedReceiver``) so that an app that is not reading still
learns of a disconnect. The receive loop always has a receive pending
except while a handler runs, so for the connections it serves it reads the
server's ASGI ``receive`` directly (about three quarters of the per-message
cost, issue 13) and reads ahead only while a handler is suspended: a
disconnect is then noticed at once (``ws.closed`` turns true and Falcon's
sends raise ``WebSocketDisconnected``), exactly as with Falcon's buffer.
Handlers are run by a per-connection :func:`runner` generator, which tells
the loop whether a handler suspended without an exception per frame.

NOTE: Falcon 4 has no public switch per connection (``max_receive_queue``
is app-wide), so :func:`own_receive` uses private names of Falcon's
``WebSocket`` and ``_BufferedReceiver`` (present from Falcon 4.0 to 4.4,
pinned by tests/integration/test_receive_path.py). When any is missing it
returns ``None`` and the loop keeps Falcon's buffered receive.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import types
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import falcon.asgi

from ._owned_ws import own_sends

try:  # NOTE: private; see the module docstring
    from falcon.asgi.ws import _WebSocketState
except ImportError:  # pragma: no cover - a Falcon without it keeps its buffer
    _WebSocketState = None  # type: ignore[assignment,misc]

__all__ = [
    "DISCONNECT",
    "DONE",
    "RawReceiver",
    "finish",
    "own_receive",
    "runner",
    "server_transport",
]

DISCONNECT = "websocket.disconnect"
AsgiReceive = Callable[[], Awaitable[dict[str, Any]]]
# Frames read without a handler suspending before the loop yields once: the
# server hands over frames it had queued (one socket read can hold
# thousands) without the event loop running, so without this one client's
# burst held every other connection (Falcon's buffered receive yields on
# every frame). A burst holds the loop for about 32 frames' work (~0.1 ms);
# the yield costs one loop turn per 32 frames.
FAIR_BATCH = 32
# How long the loop may wait, once the peer is known to be gone, for the
# server's ``websocket.disconnect`` that carries the real close code.
CLOSE_CODE_WAIT = 1.0
ABNORMAL = 1006  # RFC 6455: the connection ended without a close frame
_log = logging.getLogger("falcon_pachinko.connection")


class RawReceiver:
    """One connection's ASGI events, standing in for Falcon's
    ``_BufferedReceiver`` on that socket.

    ``next_event`` returns read-ahead events first; otherwise it awaits the
    server's ``receive`` itself (the idle case: a receive is always pending,
    so an idle disconnect is noticed at once). ``handler_suspended`` starts
    the read-ahead task; it reads at most ``limit`` events (Falcon's
    ``max_receive_queue``, at least 1) and stops at a disconnect, which it
    records at once (``client_disconnected``: what ``ws.closed``,
    ``ws.ready`` and Falcon's sends read).

    ``start``/``stop`` are what Falcon calls on accept and on ``ws.close()``:
    a close by the server side (a handler, the manager's shutdown or
    slow-peer policy) ends a pending receive with a disconnect event, as
    stopping Falcon's pump does, so the loop never waits on a server that
    sends no ``websocket.disconnect`` after the app closed.
    """

    __slots__ = (
        "_ahead",
        "_limit",
        "_seen_disconnect",
        "_stop",
        "_stopped",
        "_task",
        "_ws",
        "client_disconnected",
        "client_disconnected_code",
        "loop_task",
        "parked",
        "server_receive",
        "transport_closing",
    )

    def __init__(self, ws: Any, receive: AsgiReceive, limit: int) -> None:
        self._ws = ws
        self.server_receive = receive
        self._limit = max(1, limit)
        # Events read ahead; the deque (~0.7 KiB) is made on the first
        # read-ahead, so an idle connection does not carry one.
        self._ahead: collections.deque[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None
        # The task that runs the receive loop (the one taking the socket over,
        # until the loop runs in a task of its own): ``stop()`` cancels it
        # while it waits in the server's receive.
        self.loop_task: asyncio.Task[Any] | None = _current_task()
        self._stop = False
        self._stopped = False  # ws.close() ran: receives end now
        self.parked = False  # the loop task is inside the server's receive
        self.client_disconnected = False
        self.client_disconnected_code: int | None = None
        self._seen_disconnect = False  # the server's disconnect event was read
        # Whether the transport under the socket is already closing: a peer
        # that reset is known to asyncio one loop turn before the server
        # queues its disconnect (uvicorn only; ``None`` elsewhere).
        transport = server_transport(ws)
        self.transport_closing: Callable[[], bool] | None = (
            None if transport is None else transport.is_closing
        )

    async def next_event(self) -> dict[str, Any]:
        """The next ASGI event: read-ahead first, else the server's receive.

        PERF: the receive loop inlines the common case (nothing read ahead,
        no read-ahead running, not stopped: park, await the server's
        ``receive``, then :meth:`arrived` only when the transport is closing
        or the event is a disconnect), one coroutine less per frame; this
        method is the whole path, for the other cases and other callers.
        """
        if not self.idle():
            event = await self._next_slow()
        else:
            self.parked = True
            try:
                event = await self.server_receive()
            except asyncio.CancelledError:
                self.parked = False
                return self._cancelled_while_parked()
            self.parked = False
        self.arrived(event)
        return event

    def idle(self) -> bool:
        """Nothing read ahead, no read-ahead running, not stopped: the next
        event is the server's next one (the receive loop's fast path)."""
        return not self._ahead and self._task is None and not self._stopped

    def arrived(self, event: dict[str, Any]) -> None:
        """Bookkeeping for an event the loop got: a transport that is already
        closing (the peer reset) marks the socket disconnected, as Falcon's
        pump would (handlers still run; their sends raise
        ``WebSocketDisconnected`` instead of writing into a dead socket), and
        a disconnect records what Falcon's ``_receive`` records.
        """
        gone = self.transport_closing
        if gone is not None and gone() and not self.client_disconnected:
            self._disconnected({"code": ABNORMAL})
        if event["type"] == DISCONNECT:
            self._seen_disconnect = True
            self._disconnected(event)
            self._ws._state = _WebSocketState.CLOSED
            self._ws._close_code = self.client_disconnected_code

    async def close_code(self, fallback: int | None) -> int:
        """The peer's close code once a send found it gone.

        A send raises ``WebSocketDisconnected`` with a code of its own
        (Falcon's default 1000, or 1006 when this receiver saw the transport
        close) before the server's ``websocket.disconnect`` is read. Frames
        still queued cannot be answered, so they are read and discarded
        until that event (at most ``CLOSE_CODE_WAIT`` seconds) and its code
        is the one reported; ``fallback``, else 1006, when none comes.
        """
        if self._seen_disconnect or self._stopped:
            return self.client_disconnected_code or fallback or ABNORMAL
        discarded = 0
        try:
            async with asyncio.timeout(CLOSE_CODE_WAIT):
                while True:
                    event = await self.next_event()
                    if event["type"] == DISCONNECT:
                        return event.get("code") or fallback or ABNORMAL
                    discarded += 1
                    if not discarded % FAIR_BATCH:
                        await asyncio.sleep(0)  # the others, as in the loop
        except TimeoutError:
            return fallback or ABNORMAL
        finally:
            if discarded:
                _log.debug("peer gone: %d queued frames discarded unread", discarded)

    def _cancelled_while_parked(self) -> dict[str, Any]:
        """A cancellation reached the pending receive: ``stop()``'s (a
        disconnect event) or anyone else's (re-raised)."""
        if not self._stopped:
            raise asyncio.CancelledError
        task = asyncio.current_task()
        if task is not None and task.uncancel() > 0:
            raise asyncio.CancelledError  # a cancellation of its own besides ours
        return {"type": DISCONNECT}

    async def _next_slow(self) -> dict[str, Any]:
        if self._ahead:
            return self._ahead.popleft()
        if self._stopped:
            return {"type": DISCONNECT}
        task = self._task
        if task is not None:
            # The read-ahead is inside ``receive``: let it finish that one
            # (never cancel a receive: a server may lose the event).
            self._stop = True
            await task
            self._task = None
            if self._ahead:
                return self._ahead.popleft()
        self.parked = True
        try:
            return await self.server_receive()
        except asyncio.CancelledError:
            self.parked = False
            return self._cancelled_while_parked()
        finally:
            self.parked = False

    def handler_suspended(self) -> None:
        """A handler awaits something: read ahead so a disconnect is seen."""
        if self._task is None and not self.client_disconnected and not self._stopped:
            self._stop = False
            self._task = asyncio.ensure_future(self._read_ahead())

    async def _read_ahead(self) -> None:
        ahead = self._ahead
        if ahead is None:
            ahead = self._ahead = collections.deque()
        while not self._stop and len(ahead) < self._limit:
            event = await self.server_receive()
            ahead.append(event)
            if event["type"] == DISCONNECT:
                self._disconnected(event)
                return

    def _disconnected(self, event: dict[str, Any]) -> None:
        # What Falcon's pump records: ``ws.closed`` becomes true and
        # ``send_*`` raises ``WebSocketDisconnected`` with this code.
        self.client_disconnected = True
        self.client_disconnected_code = event.get("code", 1000)

    # -- the _BufferedReceiver interface Falcon's WebSocket calls --------------

    def start(self) -> None:
        """On accept: nothing to start (no pump)."""

    async def stop(self) -> None:
        """On ``ws.close()``: end a pending receive (this task's or the loop's).

        A second ``close()`` while the first is still sending its close frame
        (Falcon's own, after the responder returns, racing a close the
        manager started) finds the socket closed and sends nothing: two close
        frames would make the server raise and Falcon log a traceback.
        """
        if self._stopped:
            self.client_disconnected = True
            return
        self._stopped = True
        self.close()
        if (
            self.parked
            and self.loop_task is not None
            and self.loop_task is not (asyncio.current_task())
        ):
            self.loop_task.cancel()

    def close(self) -> None:
        """Stop a pending read-ahead (the connection is ending)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None


def own_receive(ws: Any) -> RawReceiver | None:
    """Take over ``ws``'s receive before it is accepted, or ``None``.

    ``None`` for anything but a not yet accepted Falcon WebSocket whose
    buffered receiver has the attributes relied on (the caller then keeps
    Falcon's buffered receive). Otherwise a :class:`RawReceiver` replaces
    the buffered receiver on this socket only (no pump task ever starts)
    and Falcon's own ``receive_*`` methods read the server directly too.
    """
    if (
        _WebSocketState is None
        or not isinstance(ws, falcon.asgi.WebSocket)
        or not getattr(ws, "unaccepted", False)
    ):
        return None
    buffer = getattr(ws, "_buffered_receiver", None)
    raw = getattr(buffer, "_asgi_receive", None)
    limit = getattr(buffer, "_max_queue", None)
    if (
        not callable(raw)
        or not isinstance(limit, int)
        or getattr(buffer, "_pump_task", True) is not None
        or getattr(buffer, "client_disconnected", None) is not False
    ):
        return None
    receiver = RawReceiver(ws, raw, limit)
    ws._buffered_receiver = receiver  # type: ignore[assignment]  # same interface
    ws._asgi_receive = raw
    own_sends(ws)  # the send side's one-coroutine path (_owned_ws)
    return receiver


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop (built outside a connection)
        return None


def mark_closed(ws: Any, code: int) -> None:
    """Record on a Falcon socket that its connection is gone (after an abort).

    What Falcon records when its close completes, so ``ws.closed`` is true,
    sends raise ``WebSocketDisconnected`` and Falcon's own close after the
    responder sends nothing. A no-op for anything but a Falcon socket.
    """
    if _WebSocketState is not None and isinstance(ws, falcon.asgi.WebSocket):
        ws._state = _WebSocketState.CLOSED
        ws._close_code = code


def server_transport(ws: Any) -> asyncio.WriteTransport | None:
    """The asyncio transport under a Falcon WebSocket served by uvicorn.

    ASGI has no way to drop a connection whose close frame cannot be
    written, so this reaches, by name, for Falcon's ASGI ``send`` callable
    (``WebSocket._asgi_send``), the uvicorn protocol it is bound to and that
    protocol's transport. Every uvicorn WebSocket implementation
    (websockets-sansio, websockets, wsproto) has this shape, pinned by
    ``tests/integration/test_slow_close_abort.py``; anything else (another
    server, a stub socket) gets ``None`` and keeps the server's own timeouts.
    """
    send = getattr(ws, "_asgi_send", None)
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if callable(getattr(transport, "abort", None)) and callable(
        getattr(transport, "get_write_buffer_size", None)
    ):
        return transport
    return None


#: What a :func:`runner` yields once the coroutine it was sent has returned.
DONE = object()


@types.coroutine
def runner() -> Generator[Any, Any, None]:
    """A generator that runs each coroutine (or ``__await__`` iterator) sent
    to it to its end.

    PERF: ``runner.send(coro)`` returns :data:`DONE` when ``coro`` finished
    without suspending, otherwise what it yielded for the event loop (then
    :func:`finish` forwards the loop's answers until ``DONE``). ``yield
    from`` returns a finished coroutine's result without raising
    ``StopIteration`` at the caller, which stepping ``coro.send(None)`` by
    hand does: that exception (an instance and a traceback object per
    frame) cost ~1,500 instructions per round trip (callgrind,
    docs/benchmarks.md). An exception of a coroutine ends this generator;
    the caller makes a new one.
    """
    coro = yield DONE
    while True:
        yield from coro
        coro = yield DONE


@types.coroutine
def finish(run: Any, yielded: Any) -> Generator[Any, Any, None]:
    """Forward between the event loop and ``run`` (a :func:`runner` whose
    coroutine yielded ``yielded``) until the coroutine has returned: results,
    exceptions, cancellation and ``close()`` reach the coroutine as they
    would with ``await``."""
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            run.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - cancellation and throw() reach the coroutine
            yielded = run.throw(exc)
        else:
            yielded = run.send(sent)
        if yielded is DONE:
            return

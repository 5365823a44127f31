"""``WebSocketConnectionManager``: rooms, targeting and isolated fan-out.

Every message is encoded once into one ASGI send event. One native call per
broadcast walks the recipients: idle connections are written to directly
(their send coroutine runs until it completes or would block), busy ones get
the event in their bounded outbox under the overflow policy. Only a send
that would block starts a writer task for that connection, so the common
case costs no task, no future and no timer per recipient, and one slow peer
never delays the others. Each writer send is bounded by ``send_timeout``;
a peer that stalls longer is closed as slow (1013 by default).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import types
from collections.abc import AsyncIterator, Collection, Generator, Iterable
from typing import Any

from . import _accel
from .backends.base import ConnectionBackend
from .backends.memory import InProcessBackend
from .exceptions import DeliveryTimeoutError, SlowConsumerError, WebSocketConnectionNotFoundError
from .senders import encode_event

__all__ = ["WebSocketConnectionManager"]

log = logging.getLogger("falcon_pachinko.manager")

OVERFLOW_POLICIES = ("drop_oldest", "drop_newest", "close")


@types.coroutine
def _resume(it: Any, yielded: Any) -> Generator[Any, Any, None]:
    """Continue a send coroutine that already yielded ``yielded`` once.

    The fan-out ran the coroutine's first step itself; this hands the rest
    to the writer task without restarting it.
    """
    while True:
        try:
            value = yield yielded
        except BaseException as exc:  # noqa: BLE001 - forwarded into the coroutine
            try:
                yielded = it.throw(exc)
            except StopIteration:
                return
        else:
            try:
                yielded = it.send(value)
            except StopIteration:
                return


class _Gone(ConnectionError):
    """The connection went away; waiting for delivery to it is moot, not an error."""


class _Peer:
    """Delivery state of one local connection (touched only off the fast path)."""

    __slots__ = ("closed_with", "conn_id", "dead", "send", "unhandled", "waiters", "writer", "ws")

    def __init__(self, conn_id: str, ws: Any, send: Any) -> None:
        self.conn_id = conn_id
        self.unhandled: dict[str, int] = {}
        self.ws = ws
        self.send = send
        self.writer: asyncio.Task[None] | None = None
        self.waiters: dict[int, asyncio.Future[None]] = {}
        self.dead: BaseException | None = None
        self.closed_with: int | None = None


class WebSocketConnectionManager:
    """Track connections in rooms and deliver messages to them.

    Parameters
    ----------
    backend:
        Membership store; :class:`InProcessBackend` (default) or a
        distributed one.
    outbox_size:
        Frames a busy connection may have waiting (default 256).
    overflow:
        ``"drop_oldest"`` (default), ``"drop_newest"`` or ``"close"`` (close
        the slow peer with ``slow_close_code``).
    slow_close_code:
        Close code for slow peers: 1013 (default, try again later) or 1008.
    send_timeout:
        Send-stall limit in seconds: a send blocked longer closes the peer as
        slow and fails its pending deliveries.
    delivery_timeout:
        Upper bound for ``broadcast_to_room(..., timeout=None)`` waits.
    """

    def __init__(
        self,
        backend: ConnectionBackend | None = None,
        *,
        outbox_size: int = 256,
        overflow: str = "drop_oldest",
        slow_close_code: int = 1013,
        send_timeout: float = 5.0,
        delivery_timeout: float = 30.0,
    ) -> None:
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}")
        if send_timeout <= 0 or delivery_timeout <= 0:
            raise ValueError("send_timeout and delivery_timeout must be positive")
        self.backend = backend if backend is not None else InProcessBackend()
        self.hub = _accel.FanoutHub(outbox_size, overflow)
        self.backend.bind_hub(self.hub)
        self.slow_close_code = slow_close_code
        self.send_timeout = send_timeout
        self.delivery_timeout = delivery_timeout
        self._peers: dict[str, _Peer] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._node = secrets.token_hex(4)
        self._ids = itertools.count(1)
        self.failed_sends = 0
        self.slow_closes = 0
        self._unhandled: dict[str, int] = {}

    # -- registration ------------------------------------------------------------

    def new_connection_id(self) -> str:
        """A fresh id, unique in this process (``<node>-<n>``)."""
        return f"{self._node}-{next(self._ids)}"

    async def add_connection(self, conn_id: str, ws: Any, *, pending: bool = False) -> None:
        """Register ``ws``; ``pending=True`` queues frames until :meth:`activate`."""
        await self.backend.add_connection(conn_id, ws)
        self._peers[conn_id] = _Peer(conn_id, ws, self.hub.target(conn_id))
        if pending:
            self.hub.mark_busy(conn_id)

    def activate(self, conn_id: str) -> None:
        """The handshake completed: deliver what was queued, then write directly."""
        peer = self._peers.get(conn_id)
        if peer is None:
            return
        if self.hub.stats(conn_id)[0]:
            self._start_writer(peer, None, None, None)
        else:
            self.hub.pop(conn_id)  # marks the writer idle

    async def remove_connection(self, conn_id: str) -> None:
        """Forget a connection; pending deliveries to it fail."""
        peer = self._peers.pop(conn_id, None)
        await self.backend.remove_connection(conn_id)
        if peer is not None:
            gone = _Gone(f"connection {conn_id!r} closed")
            peer.dead = peer.dead or gone
            if peer.writer is not None and peer.writer is not asyncio.current_task():
                peer.writer.cancel()
            self._settle(peer, peer.dead)

    async def join_room(self, conn_id: str, room: str) -> None:
        await self.backend.join_room(conn_id, room)

    async def leave_room(self, conn_id: str, room: str) -> None:
        await self.backend.leave_room(conn_id, room)

    async def set_user(self, conn_id: str, user_id: str | None) -> None:
        """Tag a connection with a user id (``None`` clears it) for ``send_to_user``."""
        self.hub.set_user(conn_id, user_id)

    def count_unhandled(self, conn_id: str | None, reason: str) -> None:
        """Count one inbound frame that did not reach a handler, by ``reason``.

        Totals appear in :meth:`stats` under ``"unhandled_frames"`` and per
        connection in :meth:`connection_stats`. Called by the resource, once
        per frame; ``conn_id`` may be unknown (then only the total counts).
        """
        totals = self._unhandled
        totals[reason] = totals.get(reason, 0) + 1
        peer = self._peers.get(conn_id) if conn_id is not None else None
        if peer is not None:
            peer.unhandled[reason] = peer.unhandled.get(reason, 0) + 1

    # -- queries -------------------------------------------------------------------

    def server_close_code(self, conn_id: str) -> int | None:
        """The code the manager closed this connection with, if it did."""
        peer = self._peers.get(conn_id)
        return None if peer is None else peer.closed_with

    def user_connections(self, user_id: str) -> list[str]:
        return self.hub.user_members(user_id)

    def room_size(self, room: str) -> int:
        return self.hub.room_size(room)

    def room_members(self, room: str) -> list[str]:
        return self.hub.members(room)

    def get_rooms_by_prefix(self, prefix: str) -> list[str]:
        return sorted(r for r in self.hub.rooms() if r.startswith(prefix))

    def rooms_of(self, conn_id: str) -> list[str]:
        return self.hub.rooms_of(conn_id)

    async def connections(
        self, *, room: str | None = None, exclude: Collection[str] | None = None
    ) -> AsyncIterator[Any]:
        """WebSockets of a snapshot of a room's members (or of everyone)."""
        ids = await self.backend.snapshot(room)
        excluded = frozenset(exclude or ())
        for conn_id in sorted(ids - excluded):
            peer = self._peers.get(conn_id)
            if peer is not None:
                yield peer.ws

    def stats(self) -> dict[str, Any]:
        """Counters an operator watches: drops, failures, slow closes, sizes,
        and inbound frames that reached no handler (``unhandled_frames``, by reason).
        """
        return {
            "connections": len(self.hub),
            "rooms": len(self.hub.rooms()),
            "dropped_frames": self.hub.dropped_total,
            "failed_sends": self.failed_sends,
            "slow_closes": self.slow_closes,
            "unhandled_frames": dict(self._unhandled),
        }

    def connection_stats(self, conn_id: str) -> dict[str, Any]:
        queued, dropped, busy = self.hub.stats(conn_id)
        peer = self._peers.get(conn_id)
        unhandled = dict(peer.unhandled) if peer is not None else {}
        return {"queued": queued, "dropped": dropped, "busy": busy, "unhandled_frames": unhandled}

    # -- delivery --------------------------------------------------------------------

    async def send_to_connection(self, conn_id: str, data: Any) -> None:
        """Send to one connection and wait until the frame is handed to the server."""
        if conn_id not in self._peers:
            raise WebSocketConnectionNotFoundError(conn_id)
        event = encode_event(data)
        outcome, a, b = self.hub.send_one(conn_id, event)
        # The fan-out result shape for one recipient, settled the same way.
        result = (
            int(outcome == "sent"),
            [(conn_id, a, b)] if outcome == "suspended" else [],
            [(conn_id, a)] if outcome == "failed" else [],
            [conn_id] if outcome == "close" else [],
            [conn_id] if outcome == "queued" else [],
        )
        await self._settle_fanout(event, result, None)

    async def broadcast_to_room(
        self,
        room: str,
        data: Any,
        *,
        exclude: Collection[str] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Deliver to the room's current members; wait until each frame is handed
        to the server or its per-recipient ``timeout`` expires (0 = immediately).

        No failure: return. One: it is re-raised. Several: ``ExceptionGroup``.
        """
        event = encode_event(data)
        await self._settle_fanout(event, self.hub.fanout_room(room, event, exclude), timeout)

    async def broadcast_to_all(
        self, data: Any, *, exclude: Collection[str] | None = None, timeout: float | None = None
    ) -> None:
        event = encode_event(data)
        await self._settle_fanout(event, self.hub.fanout_all(event, exclude), timeout)

    async def send_to_user(
        self, user_id: str, data: Any, *, exclude: Collection[str] | None = None
    ) -> None:
        """Every connection (device) tagged with ``user_id``."""
        event = encode_event(data)
        await self._settle_fanout(event, self.hub.fanout_user(user_id, event, exclude), None)

    async def publish_to_room(
        self, room: str, data: Any, *, exclude: Collection[str] | None = None
    ) -> None:
        """Fire-and-forget: return once the frame is written or queued for every
        member. Failures close the failing peer and are counted, not raised.
        """
        event = encode_event(data)
        _sent, suspended, failed, close, _queued = self.hub.fanout_room(room, event, exclude)
        if suspended or failed or close:
            self._handle_exceptions(event, suspended, failed, close)

    # -- internals ---------------------------------------------------------------------

    def _handle_exceptions(
        self,
        event: Any,
        suspended: Iterable[tuple[str, Any, Any]],
        failed: Iterable[tuple[str, Exception]],
        close: Iterable[str],
    ) -> list[Exception]:
        """Hand suspended sends to writers, fail and close peers; the errors to report."""
        errors: list[Exception] = []
        for conn_id, it, yielded in suspended:
            peer = self._peers.get(conn_id)
            if peer is not None:
                self._start_writer(peer, it, yielded, event)
        for conn_id, exc in failed:
            peer = self._peers.get(conn_id)
            if peer is not None:
                self._fail(peer, exc)
                if not self._gone(peer):
                    errors.append(exc)
        for conn_id in close:
            peer = self._peers.get(conn_id)
            if peer is not None:
                self._spawn(self._close_slow(peer, "outbox overflow"))
        return errors

    async def _settle_fanout(self, event: Any, result: Any, timeout: float | None) -> None:
        _sent, suspended, failed, close, queued = result
        if not (suspended or failed or close or queued):
            return  # PERF: the common case, every member written directly
        waiters: dict[str, asyncio.Future[None]] = {}
        for conn_id, _it, _yielded in suspended:
            peer = self._peers.get(conn_id)
            if peer is not None:
                waiters[conn_id] = self._waiter(peer, event)
        for conn_id in queued:
            peer = self._peers.get(conn_id)
            if peer is not None:
                waiters[conn_id] = self._waiter(peer, event)
        errors = self._handle_exceptions(event, suspended, failed, close)
        errors += await self._wait(waiters, timeout)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup(f"delivery failed for {len(errors)} connections", errors)

    async def _wait(
        self, waiters: dict[str, asyncio.Future[None]], timeout: float | None
    ) -> list[Exception]:
        """Per-recipient outcomes: errors (timeouts included); departures skipped."""
        if not waiters:
            return []
        bound = self.delivery_timeout if timeout is None else max(timeout, 0.0)
        if bound == 0:
            done: set[asyncio.Future[None]] = {f for f in waiters.values() if f.done()}
        else:
            done, _ = await asyncio.wait(waiters.values(), timeout=bound)
        errors: list[Exception] = []
        for conn_id, fut in waiters.items():
            if fut not in done:
                errors.append(DeliveryTimeoutError(conn_id))
                continue
            exc = fut.exception()
            if isinstance(exc, Exception) and not isinstance(exc, _Gone):
                errors.append(exc)
        return errors

    def _waiter(self, peer: _Peer, event: Any) -> asyncio.Future[None]:
        """Future resolved when ``event`` has been handed to the server for ``peer``."""
        fut = peer.waiters.get(id(event))
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            peer.waiters[id(event)] = fut
        return fut

    def _start_writer(self, peer: _Peer, it: Any, yielded: Any, event: Any) -> None:
        if peer.writer is None:
            peer.writer = asyncio.get_running_loop().create_task(
                self._writer(peer, it, yielded, event), name=f"pachinko-writer-{peer.conn_id}"
            )

    async def _writer(self, peer: _Peer, it: Any, yielded: Any, event: Any) -> None:
        """Finish the send in flight, then drain the outbox; each send bounded."""
        hub, conn_id = self.hub, peer.conn_id
        try:
            if it is not None:
                async with asyncio.timeout(self.send_timeout):
                    await _resume(it, yielded)
                fut = peer.waiters.pop(id(event), None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            while True:
                event = hub.pop(conn_id)
                if event is None:
                    break
                async with asyncio.timeout(self.send_timeout):
                    await peer.send(event)
                fut = peer.waiters.pop(id(event), None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
        except TimeoutError:
            peer.writer = None
            await self._close_slow(peer, f"send stalled for more than {self.send_timeout}s")
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported to waiters, logged
            self._fail(peer, exc)
        finally:
            if peer.writer is asyncio.current_task():
                peer.writer = None
        # Outbox empty: any waiter left had its frame dropped by the policy.
        self._settle(peer, SlowConsumerError(conn_id, "frame dropped by the overflow policy"))

    def _settle(self, peer: _Peer, exc: BaseException) -> None:
        waiters, peer.waiters = peer.waiters, {}
        for fut in waiters.values():
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: not every waiter is awaited

    def _gone(self, peer: _Peer) -> bool:
        """A failure on a connection that is already closing is not an error."""
        return bool(getattr(peer.ws, "closed", False)) or peer.conn_id not in self._peers

    def _fail(self, peer: _Peer, exc: BaseException) -> None:
        self.failed_sends += 1
        peer.dead = exc
        if not self._gone(peer):
            log.warning("send to connection %s failed: %r", peer.conn_id, exc)
        self._settle(peer, exc)
        self._spawn(self._shutdown_peer(peer, 1011))

    async def _close_slow(self, peer: _Peer, reason: str) -> None:
        if peer.closed_with is not None:
            return  # already being closed: count and log it once
        self.slow_closes += 1
        error = SlowConsumerError(peer.conn_id, reason)
        peer.dead = error
        log.warning(
            "closing slow connection %s (%s): %s", peer.conn_id, self.slow_close_code, reason
        )
        self._settle(peer, error)
        await self._shutdown_peer(peer, self.slow_close_code)

    async def _shutdown_peer(self, peer: _Peer, code: int) -> None:
        """Close a peer's socket (bounded) and stop delivering to it."""
        if peer.writer is not None and peer.writer is not asyncio.current_task():
            peer.writer.cancel()
        if peer.conn_id in self.hub:
            self.hub.mark_busy(peer.conn_id)  # no more direct writes to it
        peer.closed_with = peer.closed_with or code
        try:
            async with asyncio.timeout(1.0):
                if not getattr(peer.ws, "closed", False):
                    await peer.ws.close(code)
        except Exception:
            log.debug("closing %s did not complete", peer.conn_id, exc_info=True)

    def _spawn(self, coro: Any) -> None:
        """Run a close in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self.backend.start()

    async def close_all(self, code: int = 1001, timeout: float = 5.0) -> None:
        """Close every local connection with ``code`` within ``timeout`` seconds."""
        peers = list(self._peers.values())

        async def close(peer: _Peer) -> None:
            peer.closed_with = peer.closed_with or code
            try:
                if not getattr(peer.ws, "closed", False):
                    await peer.ws.close(code)
            except Exception:
                log.debug("close of %s failed", peer.conn_id, exc_info=True)

        if peers:
            tasks = [asyncio.ensure_future(close(p)) for p in peers]
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()

    async def stop(self, timeout: float = 5.0) -> None:
        """Graceful shutdown: close all sockets with 1001, then stop the backend."""
        await self.close_all(1001, timeout)
        for task in list(self._background):
            task.cancel()
        await self.backend.stop()

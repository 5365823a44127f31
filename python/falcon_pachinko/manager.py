"""``WebSocketConnectionManager``: rooms, targeting and isolated fan-out.

Every message is encoded once into one ASGI send event. One native call per
broadcast walks the recipients: idle connections are written to directly
(their send coroutine runs until it completes or would block), busy ones get
the event in their bounded outbox under the overflow policy. Only a send
that would block starts a writer task for that connection, so the common
case costs no task, no future and no timer per recipient, and one slow peer
never delays the others. Each writer send is bounded by ``send_timeout``;
a peer that stalls longer is closed as slow (1013 by default).

A recipient's network trouble (DESIGN §6.1) is that recipient's outcome:
applied by policy, counted and logged once, never raised in the caller and
never waited for (unless the caller asks, with ``timeout=``). Only errors
that are not network conditions propagate.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from . import _accel
from ._peers import PeerDelivery, _Gone, _Peer
from ._senders import encode_event, sender_for
from .backends.base import ConnectionBackend
from .backends.memory import InProcessBackend
from .delivery import DeliveryResult, resume
from .exceptions import (
    LimitExceededError,
    WebSocketConnectionNotFoundError,
)

__all__ = ["DeliveryResult", "WebSocketConnectionManager"]

log = logging.getLogger("falcon_pachinko.manager")
#: Seconds between two log lines about frames the outbox policy dropped.
DROP_LOG_INTERVAL = 60.0

#: The hub's overflow policies (defined once, in each twin).
OVERFLOW_POLICIES = _accel.POLICIES

#: What one hub delivery did (broadcast or single send); type-checked against
#: the pure twin, the one the native stub mirrors.
_Fanout = _accel.Fanout


#: Hub states in which frames queue instead of being written at once.
_BUSY = frozenset(("pending", "writing"))

#: ``send_to_connection`` to a connection on another node: queued on the bus.
_REMOTE_ONE = DeliveryResult(recipients=1, queued=1)


class WebSocketConnectionManager(PeerDelivery):
    """Track connections in rooms and deliver messages to them.

    Parameters
    ----------
    backend:
        Membership store; :class:`InProcessBackend` (default) or a
        distributed or custom one. With a backend other than the built-in
        one, room broadcasts ask it for the members (``snapshot``) and for
        sockets this manager did not register (``get_websocket``).
    outbox_size:
        Frames a busy connection may have waiting (default 256).
    overflow:
        ``"drop_oldest"`` (default), ``"drop_newest"`` or ``"close"`` (close
        the slow peer with ``slow_close_code``).
    slow_close_code:
        Close code for slow peers: 1013 (default, try again later) or 1008.
    send_timeout:
        Send-stall limit in seconds: a send blocked longer closes the peer as
        slow (its queued frames are dropped and counted).
    delivery_timeout:
        Upper bound for any ``timeout=`` wait of a delivery call.
    max_rooms_per_connection, max_room_name_length, max_connections_per_user,
    max_user_id_length:
        Membership limits (defaults 256, 256 characters, 64, 256 characters):
        ``join_room``/``set_user`` beyond them raise :class:`LimitExceededError`
        (a ``ValueError``) and change nothing, so one client cannot make the
        indexes grow without bound.
    """

    def __init__(
        self,
        backend: ConnectionBackend | None = None,
        *,
        outbox_size: int = _accel.DEFAULT_CAPACITY,
        overflow: str = "drop_oldest",
        slow_close_code: int = 1013,
        send_timeout: float = 5.0,
        delivery_timeout: float = 30.0,
        max_rooms_per_connection: int = 256,
        max_room_name_length: int = 256,
        max_connections_per_user: int = 64,
        max_user_id_length: int = 256,
    ) -> None:
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}")
        if send_timeout <= 0 or delivery_timeout <= 0:
            raise ValueError("send_timeout and delivery_timeout must be positive")
        self.backend = backend if backend is not None else InProcessBackend()
        self.hub = _accel.FanoutHub(capacity=outbox_size, policy=overflow)
        self.backend.bind_hub(self.hub)
        # PERF: the built-in backend keeps its rooms in the hub itself, so a
        # room broadcast is one hub call; any other backend is asked. A
        # distributed backend keeps local rooms in the hub too (local fan-out
        # is the same hub call) and repeats each delivery on other nodes.
        self._bus = self.backend if self.backend.distributed else None
        self._presence_hub = type(self.backend) is InProcessBackend
        self._local_rooms = self._presence_hub or self._bus is not None
        self.slow_close_code = slow_close_code
        self.send_timeout = send_timeout
        self.delivery_timeout = delivery_timeout
        self.max_rooms_per_connection = max_rooms_per_connection
        self.max_room_name_length = max_room_name_length
        self.max_connections_per_user = max_connections_per_user
        self.max_user_id_length = max_user_id_length
        self._peers: dict[str, _Peer] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._node = secrets.token_hex(4)
        self._ids = itertools.count(1)
        self.failed_sends = 0
        self.lost_peers = 0
        self.slow_closes = 0
        self._unhandled: dict[str, int] = {}
        self._drops_logged = 0  # the hub's dropped_total at the last line about drops
        self._drops_logged_at = -DROP_LOG_INTERVAL
        self._overflow = overflow
        self.backend.attach(self._node, self._deliver_from_bus)

    # -- registration ------------------------------------------------------------

    def new_connection_id(self) -> str:
        """A fresh id, unique in this process (``<node>-<n>``)."""
        return f"{self._node}-{next(self._ids)}"

    async def add_connection(self, conn_id: str, ws: Any, *, pending: bool = False) -> None:
        """Register ``ws``; ``pending=True`` queues frames until :meth:`activate`."""
        await self.backend.add_connection(conn_id, ws)
        send = sender_for(ws)
        try:
            self.hub.add(conn_id, send, pending=pending)
        except BaseException:
            await self.backend.remove_connection(conn_id)
            raise
        self._peers[conn_id] = _Peer(conn_id, ws, send)

    def activate(self, conn_id: str) -> None:
        """The handshake completed: deliver what was queued, then write directly."""
        peer = self._peers.get(conn_id)
        if peer is None:
            return
        if self.hub.activate(conn_id):  # frames queued while pending
            self._start_writer(peer, None, None, None)

    async def remove_connection(self, conn_id: str) -> None:
        """Forget a connection (idempotent); frames still queued for it are moot.

        A connection that had frames dropped by the outbox policy says so as
        it leaves (INFO, with its id and count): the minute's drop WARNING
        counts all connections, and the counts per connection go with the
        connection. One already closing (lost or closed as slow, each logged
        with its id then) stays quiet: frames sent to it since were dropped
        as a matter of course (a server's shutdown would log every client).
        """
        peer = self._peers.pop(conn_id, None)
        hub = self.hub
        if conn_id in hub and hub.state(conn_id) != "closing":
            dropped = hub.dropped_count(conn_id)
            if dropped:
                log.info(
                    "connection %s left with %d frame(s) dropped for it by the outbox policy",
                    conn_id,
                    dropped,
                )
        hub.remove(conn_id)
        await self.backend.remove_connection(conn_id)
        if peer is not None:
            gone = _Gone(f"connection {conn_id!r} closed")
            peer.dead = peer.dead or gone
            if peer.writer is not None and peer.writer is not asyncio.current_task():
                peer.writer.cancel()
            self._settle(peer, peer.dead)

    async def join_room(self, conn_id: str, room: str) -> None:
        """Add a connection to ``room`` (idempotent), within the membership limits."""
        if isinstance(room, str) and len(room) > self.max_room_name_length:
            raise LimitExceededError("room_name_length", self.max_room_name_length, conn_id)
        if conn_id in self.hub:
            rooms = self.hub.rooms_of(conn_id)
            if len(rooms) >= self.max_rooms_per_connection and room not in rooms:
                raise LimitExceededError(
                    "rooms_per_connection", self.max_rooms_per_connection, conn_id
                )
        await self.backend.join_room(conn_id, room)

    async def leave_room(self, conn_id: str, room: str) -> None:
        await self.backend.leave_room(conn_id, room)

    async def set_user(self, conn_id: str, user_id: str | None) -> None:
        """Tag a connection with a user id (``None`` clears it) for ``send_to_user``."""
        if isinstance(user_id, str):
            if len(user_id) > self.max_user_id_length:
                raise LimitExceededError("user_id_length", self.max_user_id_length, conn_id)
            devices = self.user_connections(user_id)
            if len(devices) >= self.max_connections_per_user and conn_id not in devices:
                raise LimitExceededError(
                    "connections_per_user", self.max_connections_per_user, conn_id
                )
        self.hub.set_user(conn_id, user_id)
        if self._bus is not None:
            await self._bus.set_user(conn_id, user_id)

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
            counts = peer.unhandled
            if counts is None:
                counts = peer.unhandled = {}
            counts[reason] = counts.get(reason, 0) + 1

    # -- queries -------------------------------------------------------------------

    @property
    def websockets(self) -> Mapping[str, Any]:
        """Read-only snapshot: connection id -> socket, for this process's connections."""
        return MappingProxyType({conn_id: peer.ws for conn_id, peer in self._peers.items()})

    @property
    def rooms(self) -> Mapping[str, frozenset[str]]:
        """Read-only snapshot: room -> member ids (as the backend sees them)."""
        return MappingProxyType(dict(self.backend.rooms))

    async def snapshot(self, room: str | None = None) -> frozenset[str]:
        """Ids of a room's members (or of every connection) at this instant."""
        return await self.backend.snapshot(room)

    async def get_websocket(self, conn_id: str) -> Any | None:
        """The socket of a connection, or ``None`` when it is unknown (as published)."""
        peer = self._peers.get(conn_id)
        if peer is not None:
            return peer.ws
        try:
            return await self.backend.get_websocket(conn_id)
        except WebSocketConnectionNotFoundError:
            return None

    def server_close_code(self, conn_id: str) -> int | None:
        """The code the manager closed this connection with, if it did."""
        peer = self._peers.get(conn_id)
        return None if peer is None else peer.closed_with

    def user_connections(self, user_id: str) -> list[str]:
        """Ids of a user's connections (on every node with a distributed backend)."""
        if self._bus is not None:
            return self._bus.user_members(user_id)
        return self.hub.user_members(user_id)

    def room_size(self, room: str) -> int:
        if self._presence_hub:
            return self.hub.room_size(room)
        return len(self.backend.rooms.get(room, ()))

    def room_members(self, room: str) -> list[str]:
        if self._presence_hub:
            return self.hub.members(room)
        return sorted(self.backend.rooms.get(room, ()))

    def get_rooms_by_prefix(self, prefix: str) -> list[str]:
        rooms = self.hub.rooms() if self._presence_hub else list(self.backend.rooms)
        return sorted(r for r in rooms if r.startswith(prefix))

    def rooms_of(self, conn_id: str) -> list[str]:
        if self._presence_hub or (self._bus is not None and conn_id in self.hub):
            return self.hub.rooms_of(conn_id)
        return sorted(r for r, members in self.backend.rooms.items() if conn_id in members)

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

        ``failed_sends`` counts every send that raised; ``lost_peers`` those
        of them where the peer had gone away (a network condition).
        """
        return {
            "connections": len(self.hub),
            "rooms": len(self.hub.rooms()) if self._presence_hub else len(self.backend.rooms),
            "dropped_frames": self.hub.dropped_total,
            "failed_sends": self.failed_sends,
            "lost_peers": self.lost_peers,
            "slow_closes": self.slow_closes,
            "unhandled_frames": dict(self._unhandled),
            "bus": self.backend.bus_stats(),
        }

    def connection_stats(self, conn_id: str) -> dict[str, Any]:
        hub = self.hub
        state = hub.state(conn_id)
        peer = self._peers.get(conn_id)
        unhandled = dict(peer.unhandled or {}) if peer is not None else {}
        return {
            "queued": hub.queued_count(conn_id),
            "dropped": hub.dropped_count(conn_id),
            "busy": state in _BUSY,
            "unhandled_frames": unhandled,
        }

    # -- delivery --------------------------------------------------------------------

    async def send_to_connection(
        self, conn_id: str, data: Any, *, timeout: float | None = None
    ) -> DeliveryResult:
        """Send to one connection: handed to the server, or queued if it is busy.

        Unknown or removed ids raise :class:`WebSocketConnectionNotFoundError`;
        the peer's network trouble never raises (see :class:`DeliveryResult`).
        """
        event = encode_event(data)
        if conn_id in self._peers:
            return await self._settle_fanout(event, self.hub.send_one(conn_id, event), timeout)
        if self._bus is not None:
            if self._bus.publish("conn", conn_id, None, event):
                return _REMOTE_ONE  # queued on the bus for the node that has it
            raise WebSocketConnectionNotFoundError(conn_id)
        if self._local_rooms:
            raise WebSocketConnectionNotFoundError(conn_id)
        fan = await self._fanout_ids(frozenset((conn_id,)), event, None, strict=True)
        return await self._settle_fanout(event, fan, timeout)

    async def broadcast_to_room(
        self,
        room: str,
        data: Any,
        *,
        exclude: Collection[str] | None = None,
        timeout: float | None = None,
    ) -> DeliveryResult:
        """Deliver to the room's current members; return once each idle member
        was handed the frame and each busy one has it queued.

        ``timeout`` (seconds, optional) also waits that long for the queued
        frames; the result's ``pending`` says how many were still waiting.
        A member's network trouble (gone, stalled, overflowing) is applied by
        policy and counted, never raised; other errors raised by a socket
        propagate (one re-raised, several as an ``ExceptionGroup``).
        Unknown or empty room: nothing happens.
        """
        return await self._broadcast(room, encode_event(data), exclude, timeout)

    async def broadcast_to_all(
        self, data: Any, *, exclude: Collection[str] | None = None, timeout: float | None = None
    ) -> DeliveryResult:
        """Every connection, as :meth:`broadcast_to_room` delivers to a room."""
        return await self._broadcast(None, encode_event(data), exclude, timeout)

    async def _broadcast(
        self,
        room: str | None,
        event: dict[str, Any],
        exclude: Collection[str] | None,
        timeout: float | None,
    ) -> DeliveryResult:
        """One room's members (``room=None``: every connection), here and on
        the other nodes."""
        if self._local_rooms:
            # PERF: the other nodes first (a write to Redis, no wait), so
            # their fan-out runs while this node delivers to its own members.
            if room is None:
                if self._bus is not None:
                    self._bus.publish("all", "", exclude, event)
                fan = self.hub.fanout_all(event, exclude)
            else:
                if self._bus is not None:
                    self._bus.publish("room", room, exclude, event)
                fan = self.hub.fanout_room(room, event, exclude)
        else:
            fan = await self._fanout_ids(await self.backend.snapshot(room), event, exclude)
        return await self._settle_fanout(event, fan, timeout)

    async def send_to_user(
        self,
        user_id: str,
        data: Any,
        *,
        exclude: Collection[str] | None = None,
        timeout: float | None = None,
    ) -> DeliveryResult:
        """Every connection (device) tagged with ``user_id``, as a broadcast."""
        event = encode_event(data)
        if self._bus is not None:  # the other nodes first, as for a room
            self._bus.publish("user", user_id, exclude, event)
        fan = self.hub.fanout_user(user_id, event, exclude)
        return await self._settle_fanout(event, fan, timeout)

    async def publish_to_room(
        self, room: str, data: Any, *, exclude: Collection[str] | None = None
    ) -> DeliveryResult:
        """Fire-and-forget: :meth:`broadcast_to_room` without a ``timeout``
        (kept for producers written against the published API).
        """
        return await self.broadcast_to_room(room, data, exclude=exclude)

    # -- internals ---------------------------------------------------------------------

    async def _fanout_ids(
        self,
        ids: Iterable[str],
        event: Any,
        exclude: Collection[str] | None,
        *,
        strict: bool = False,
    ) -> _Fanout:
        """Deliver to ids a custom backend named: registered ones through the
        hub (same isolation), others through the backend's ``get_websocket``.
        """
        excluded = frozenset(exclude or ())
        sent = dropped = 0
        suspended: list[Any] = []
        failed: list[Any] = []
        to_close: list[str] = []
        queued: list[str] = []
        for conn_id in sorted(frozenset(ids) - excluded):
            if conn_id in self._peers:
                one = self.hub.send_one(conn_id, event)
                sent, dropped = sent + one.sent, dropped + one.dropped
                suspended += one.suspended
                failed += one.failed
                to_close += one.to_close
                queued += one.queued
                continue
            try:
                ws = await self.backend.get_websocket(conn_id)
            except WebSocketConnectionNotFoundError:
                if strict:
                    raise
                continue  # left between snapshot and send
            try:
                it = sender_for(ws)(event).__await__()
                yielded = it.send(None)
            except StopIteration:
                sent += 1
                continue
            except Exception as exc:  # noqa: BLE001 - classified by the caller
                failed.append((conn_id, exc))
                continue
            queued.append(conn_id)
            self._spawn(self._finish_unmanaged(conn_id, it, yielded))
        return _accel.Fanout(sent, dropped, suspended, failed, to_close, queued)

    async def _deliver_from_bus(
        self, kind: str, target: str, exclude: Collection[str], event: dict[str, Any]
    ) -> None:
        """Deliver locally a frame another node published (same fan-out and
        isolation as a local broadcast; errors are logged, never raised).
        """
        hub = self.hub
        if kind == "room":
            fan = hub.fanout_room(target, event, exclude or None)
        elif kind == "all":
            fan = hub.fanout_all(event, exclude or None)
        elif kind == "user":
            fan = hub.fanout_user(target, event, exclude or None)
        elif kind == "conn" and target in self._peers:
            fan = hub.send_one(target, event)
        else:
            return
        try:
            await self._settle_fanout(event, fan, None)
        except Exception:
            log.warning("delivery of a %s frame from another node failed", kind, exc_info=True)

    async def _finish_unmanaged(self, conn_id: str, it: Any, yielded: Any) -> None:
        """Finish a send to a socket only the backend knows, bounded."""
        try:
            async with asyncio.timeout(self.send_timeout):
                await resume(it, yielded)
        except Exception as exc:  # noqa: BLE001 - counted and logged, never raised
            self._failed(None, conn_id, exc)

    def _note_drops(self) -> None:
        """Dropped frames are logged, not only counted: a WARNING at the
        first, then at most one every ``DROP_LOG_INTERVAL`` seconds with the
        number since (a line per drop would let one slow client flood the
        log). Read from the hub's running total after each delivery (with
        ``drop_oldest`` a delivery's own result counts its frame as queued:
        the frame dropped is an older one). Per connection they are in
        ``connection_stats()``, in total in ``stats()["dropped_frames"]``.
        """
        now = time.monotonic()
        if now - self._drops_logged_at < DROP_LOG_INTERVAL:
            return
        total = self.hub.dropped_total
        log.warning(
            "%d frame(s) dropped %s (outbox full, overflow=%r, or sent to a connection "
            "already closing: gone, closed as slow, or ending); per connection in "
            "connection_stats(), in total in stats()['dropped_frames']",
            total - self._drops_logged,
            "since the last such line" if self._drops_logged else "so far",
            self._overflow,
        )
        self._drops_logged_at, self._drops_logged = now, total

    async def _settle_fanout(
        self, event: Any, fan: _Fanout, timeout: float | None
    ) -> DeliveryResult:
        """Act on what the hub could not finish itself; the caller's result."""
        sent, dropped = fan.sent, fan.dropped
        if self.hub.dropped_total != self._drops_logged:
            self._note_drops()
        if fan.settled:
            # PERF: the common case, every member written directly.
            return DeliveryResult(sent + dropped, sent, 0, dropped, 0)
        suspended, failed, to_close, queued = fan.suspended, fan.failed, fan.to_close, fan.queued
        peers = self._peers
        for conn_id, it, yielded in suspended:
            peer = peers.get(conn_id)
            if peer is not None:
                self._start_writer(peer, it, yielded, event)
        errors: list[Exception] = []
        for conn_id, exc in failed:
            if self._failed(peers.get(conn_id), conn_id, exc):
                errors.append(exc)
        for conn_id in to_close:
            peer = peers.get(conn_id)
            if peer is not None:
                self._spawn(self._close_slow(peer, "outbox overflow"))
        pending = 0
        if timeout is not None:
            waiters = [
                self._waiter(peer, event)
                for conn_id in itertools.chain((c for c, _i, _y in suspended), queued)
                if (peer := peers.get(conn_id)) is not None
            ]
            pending = await self._wait(waiters, timeout, errors)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup(f"delivery failed for {len(errors)} connections", errors)
        n_queued = len(suspended) + len(queued)
        closed = len(failed) + len(to_close)
        recipients = sent + dropped + n_queued + closed
        return DeliveryResult(recipients, sent, n_queued, dropped, closed, pending)

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

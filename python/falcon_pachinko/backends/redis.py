"""``RedisBackend``: one application across processes and machines.

Each node (one connection manager in one process) delivers locally exactly
as the in-process backend does (rooms in the native hub, one hub call per
broadcast) and repeats every delivery on the other nodes through one Redis
pub/sub channel. A bus frame (encoded natively, see ``_pure_bus``) names
the target, the excluded ids and the origin node; a node skips its own
frames, so every member receives a broadcast exactly once.

The backend is assembled from parts with one purpose each:

* ``redis_core``: options, keys, counters, the ordered queue, losses;
* ``presence``: the mirror of the other nodes' connections (TTL heartbeat,
  sequence-numbered announcements);
* ``redis_writer``: presence, state and slow-path publishes written to
  Redis in order (one task, pipelined);
* ``redis_link``: the subscriber connection, reconnects with backoff, and
  incoming frames;
* ``publisher`` / ``subscriber``: the two fast sockets (``PUBLISH``
  written from the broadcasting call, pub/sub read by hiredis);
* ``state``: the Redis-hash ``state`` proxy.

Faults: a lost Redis connection is retried with capped exponential
backoff; on resubscription the node rewrites its presence and reloads the
others. Local delivery never waits for Redis. Frames that could not be
published (Redis down, or the bounded publish queue full) are counted in
``bus_stats()["undelivered"]`` and logged once per outage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Mapping
from typing import Any

import msgspec

from .. import _accel
from ..exceptions import WebSocketConnectionNotFoundError
from .redis_core import DOWN, aioredis, log
from .redis_link import DEFAULT_MAX_FRAME, BusLink
from .redis_writer import BusWriter
from .state import RedisState

__all__ = ["DEFAULT_MAX_FRAME", "RedisBackend"]


class RedisBackend(BusLink, BusWriter):
    """Distributed membership and delivery over Redis (``falcon-pachinko[redis]``).

    Parameters
    ----------
    url:
        Redis URL (``redis://host:port/db``); connected lazily, at the app's
        lifespan startup.
    channel_prefix:
        Prefix of every channel and key, so several apps can share a Redis.
    ttl:
        Seconds after which a silent node leaves presence (heartbeat every
        ``ttl / 3``).
    max_pending:
        Bus operations that may wait for Redis; beyond that new frames are
        dropped and counted (the queue never grows without bound).
    max_backoff:
        Cap of the reconnect backoff, in seconds.
    connect_timeout:
        How long the app's startup waits for the first subscription before
        going on (the backend keeps retrying in the background).
    """

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Connect and subscribe (waits up to ``connect_timeout``; keeps retrying after)."""
        if self._tasks:
            return
        if not self.node:
            raise RuntimeError("RedisBackend is not attached to a connection manager")
        self._stopping = False
        self._client = aioredis.Redis.from_url(
            self.url, socket_timeout=5.0, socket_connect_timeout=2.0
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._subscriber(), name="pachinko-redis-subscriber"),
            loop.create_task(self._publisher(), name="pachinko-redis-publisher"),
            loop.create_task(self._heartbeat(), name="pachinko-redis-heartbeat"),
        ]
        try:
            async with asyncio.timeout(self.connect_timeout):
                await self._connected.wait()
        except TimeoutError:
            log.warning("redis at %s not reachable yet; retrying in the background", self.url)

    async def stop(self) -> None:
        """Leave the cluster at once (presence removed), then disconnect."""
        if not self._tasks:
            return
        self._stopping = True
        self._drained.clear()
        self._enqueue(("bye",))
        if self._connected.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await self._drained.wait()
        for _ in range(100):  # bounded: up to 1 s for fast-path acknowledgements
            if self._fast is None or not self._fast.outstanding:
                break
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._connected.clear()
        with contextlib.suppress(*DOWN):
            async with asyncio.timeout(2.0):
                await self._client.aclose()

    async def wait_connected(self, timeout: float) -> bool:
        """True once subscribed (bounded by ``timeout`` seconds)."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            return False
        return True

    # -- membership (local part from InProcessBackend, announced on the bus) -------

    @property
    def rooms(self) -> Mapping[str, frozenset[str]]:
        return self._cluster_rooms

    async def add_connection(self, conn_id: str, ws: Any) -> None:
        await super().add_connection(conn_id, ws)
        self._announce_set(conn_id, None, [])

    async def remove_connection(self, conn_id: str) -> None:
        known = conn_id in self._websockets
        await super().remove_connection(conn_id)
        if known:
            self._seq += 1
            self._enqueue(("del", conn_id, self._seq))
        if self._states.pop(conn_id, None) is not None:
            self._enqueue(("state_del", conn_id))

    async def join_room(self, conn_id: str, room: str) -> None:
        await super().join_room(conn_id, room)
        self._announce(conn_id)

    async def leave_room(self, conn_id: str, room: str) -> None:
        await super().leave_room(conn_id, room)
        self._announce(conn_id)

    async def set_user(self, conn_id: str, user_id: str | None) -> None:
        self._announce(conn_id)

    async def snapshot(self, room: str | None = None) -> frozenset[str]:
        if room is None:
            return frozenset(self._presence.ids().union(self._websockets))
        return frozenset(self.room_members(room))

    def _announce(self, conn_id: str) -> None:
        if conn_id in self.hub:
            self._announce_set(conn_id, self.hub.user_of(conn_id), self.hub.rooms_of(conn_id))

    def _announce_set(self, conn_id: str, user: str | None, rooms: list[str]) -> None:
        self._seq += 1
        self._enqueue(("set", conn_id, self._seq, user, rooms))

    # -- per-connection state (Redis hash) -----------------------------------------

    def state_for(self, conn_id: str) -> RedisState:
        """The Redis-hash ``state`` of a local connection (one per connection)."""
        if conn_id not in self._websockets:
            raise WebSocketConnectionNotFoundError(conn_id)
        state = self._states.get(conn_id)
        if state is None:
            state = self._states[conn_id] = RedisState(self, conn_id)
        return state

    def write_state(self, conn_id: str, key: str, encoded: bytes | None) -> None:
        """Queue one field write (``None``: delete) of a connection's state hash."""
        self._enqueue(("state", conn_id, key, encoded))

    async def read_state(self, conn_id: str) -> dict[str, Any]:
        """A connection's state as stored in Redis (any node; ``{}`` if none)."""
        state = self._states.get(conn_id)
        if state is not None:
            return dict(state)
        async with asyncio.timeout(5.0):
            fields = await self._client.hgetall(self._state_key(conn_id))
        return {
            (k.decode() if isinstance(k, bytes) else k): msgspec.json.decode(v)
            for k, v in fields.items()
        }

    # -- cluster presence (local hub + mirrors of live nodes) ----------------------

    def user_members(self, user_id: str) -> list[str]:
        return sorted([*self.hub.user_members(user_id), *self._presence.user_members(user_id)])

    def owner_of(self, conn_id: str) -> str | None:
        """The node holding ``conn_id`` (``None`` if no live node has it)."""
        if conn_id in self._websockets:
            return self.node
        return self._presence.owner_of(conn_id)

    def cluster_nodes(self) -> list[str]:
        """Live nodes, this one included."""
        return sorted([self.node, *self._presence.live_names()])

    # -- publishing ----------------------------------------------------------------

    def publish(
        self, kind: str, target: str, exclude: Collection[str] | None, event: dict[str, Any]
    ) -> bool:
        channel = self.bus_channel
        if kind == "conn":
            owner = self.owner_of(target)
            if owner is None:
                return False
            channel = f"{self.prefix}:node:{owner}"
        text = event.get("text")
        payload = text if text is not None else event["bytes"]
        frame = _accel.encode_bus_frame(kind, target, exclude, self.node, payload)
        fast = self._fast
        if fast is not None and fast.transport is not None:
            # PERF: written now, from the broadcasting call (see publisher.py).
            raw = self._bus_channel_bytes if kind != "conn" else channel.encode()
            if not fast.publish(raw, frame):
                self._lost(1, "publish backlog full")
            return True
        self._enqueue(("pub", channel, frame))
        return True

    # -- observability -------------------------------------------------------------

    def bus_stats(self) -> dict[str, Any]:
        fast = self._fast
        return {
            **self._stats,
            "published": self._stats["published"] + (fast.acked if fast else 0),
            "connected": self._connected.is_set(),
            "pending": len(self._queue) + (fast.outstanding if fast else 0),
            "nodes": len(self._presence.live()) + 1,
        }

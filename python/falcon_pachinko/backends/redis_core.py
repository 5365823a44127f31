"""State shared by the parts of ``RedisBackend``: options, keys, counters,
the ordered operation queue and the outage/loss bookkeeping.

``RedisBackend`` is assembled from :class:`RedisCore` and two halves that
each own one task: ``redis_writer.BusWriter`` (presence, state and slow-path
publishes written to Redis in order) and ``redis_link.BusLink`` (the
subscriber connection, reconnects and incoming frames). Keeping what both
halves touch here lets each of them stay one concern.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from ..exceptions import MissingDependencyError
from .base import DeliverFn
from .memory import InProcessBackend
from .presence import ClusterRooms, Presence
from .publisher import FastPublisher
from .state import RedisState

try:
    import hiredis  # noqa: F401 - the subscriber's reader, checked here for a clear error
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - exercised only without the extra
    aioredis = None  # type: ignore[assignment]
    RedisError = OSError  # type: ignore[assignment,misc]

__all__ = ["DOWN", "RedisCore", "aioredis", "log"]

log = logging.getLogger("falcon_pachinko.redis")

#: Errors that mean "Redis is unreachable right now" (retried, never raised).
DOWN = (RedisError, OSError, TimeoutError)


class RedisCore(InProcessBackend):
    """Options and shared state of a Redis backend (see ``RedisBackend``)."""

    distributed = True

    def __init__(
        self,
        url: str,
        *,
        channel_prefix: str = "falcon-pachinko",
        ttl: float = 10.0,
        max_pending: int = 10_000,
        max_backoff: float = 2.0,
        connect_timeout: float = 5.0,
    ) -> None:
        if aioredis is None:
            raise MissingDependencyError(
                "RedisBackend needs redis-py and hiredis: pip install 'falcon-pachinko[redis]'"
            )
        if ttl <= 0 or max_pending <= 0 or max_backoff <= 0:
            raise ValueError("ttl, max_pending and max_backoff must be positive")
        super().__init__()
        self.url = url
        self.prefix = channel_prefix
        self.ttl = ttl
        self.max_pending = max_pending
        self.max_backoff = max_backoff
        self.connect_timeout = connect_timeout
        self.bus_channel = f"{channel_prefix}:bus"
        self._bus_channel_bytes = self.bus_channel.encode()
        self.node = ""
        self._echo = b""
        self._deliver: DeliverFn | None = None
        self._presence = Presence(ttl)
        self._cluster_rooms = ClusterRooms(self.room_members, self.room_names)
        self._states: dict[str, RedisState] = {}
        self._needs_resync = False
        self._loss_logged = False
        self._fast: FastPublisher | None = None
        self._queue: deque[tuple[Any, ...]] = deque()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._seq = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Any = None
        self._connected = asyncio.Event()
        self._stopping = False
        self._down_since: float | None = None
        self._stats = {
            "published": 0,
            "received": 0,
            "rejected_frames": 0,
            "undelivered": 0,
            "outages": 0,
            "reconnects": 0,
            "dropped_on_receive": 0,
        }

    def attach(self, node: str, deliver: DeliverFn) -> None:
        self.node = node
        self._deliver = deliver
        # The start of every frame this node encodes, up to the end of its
        # origin field ("PB", version 1, kind, flags, origin_len, origin;
        # see _pure_bus): kind and flags vary, so they are skipped when matching.
        origin = node.encode()
        self._echo = bytes((len(origin),)) + origin if len(origin) <= 0xFF else b""

    @property
    def node_channel(self) -> str:
        return f"{self.prefix}:node:{self.node}"

    def _presence_key(self, node: str) -> str:
        return f"{self.prefix}:presence:{node}"

    def _state_key(self, conn_id: str) -> str:
        return f"{self.prefix}:state:{conn_id}"

    # -- cluster presence: this node's hub plus the mirrors of live nodes ----------

    def room_members(self, room: str) -> list[str]:
        return sorted([*self.hub.members(room), *self._presence.room_members(room)])

    def room_names(self) -> list[str]:
        return sorted(self._presence.room_names().union(self.hub.rooms()))

    # -- the ordered queue and its losses ------------------------------------------

    def _enqueue(self, item: tuple[Any, ...]) -> None:
        if len(self._queue) >= self.max_pending:
            if item[0] == "pub":
                self._lost(1, "publish queue full")
            else:
                # Presence and state are rewritten whole by the next heartbeat.
                self._needs_resync = True
            return
        self._queue.append(item)
        self._wake.set()

    def _lost(self, frames: int, why: str) -> None:
        """Count frames that will not reach other nodes; log once per episode
        (until the queue drains again), never once per frame.
        """
        if not frames:
            return
        if not self._loss_logged:
            self._loss_logged = True
            log.warning("bus frames not delivered to other nodes: %s (counting)", why)
        self._stats["undelivered"] += frames

    def _outage(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._stats["outages"] += 1
            log.warning("redis at %s unavailable (%r); local delivery continues", self.url, exc)

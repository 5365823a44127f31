"""``RedisBackend``: one application across processes and machines.

Each node (one connection manager in one process) delivers locally exactly
as the in-process backend does (rooms in the native hub, one hub call per
broadcast) and repeats every delivery on the other nodes through one Redis
pub/sub channel. A bus frame (encoded natively, see ``_pure_bus``) names
the target, the excluded ids and the origin node; a node skips its own
frames, so every member receives a broadcast exactly once.

Presence: every node keeps its own connections (user, rooms) in a Redis
hash ``<prefix>:presence:<node>`` that expires unless refreshed by the
node's heartbeat, and announces each change on the bus with a sequence
number. Every node mirrors the others in memory (loaded from the hashes on
each (re)subscription, then kept current by the announcements), so the
manager's presence queries stay synchronous and cluster-wide. A node that
stops heart-beating leaves every mirror after ``ttl`` seconds and its hash
expires; a graceful stop removes it at once.

Faults: a lost Redis connection is retried with capped exponential
backoff; on resubscription the node rewrites its presence and reloads the
others. Local delivery never waits for Redis. Frames that could not be
published (Redis down, or the bounded publish queue full) are counted in
``bus_stats()["undelivered"]`` and logged once per outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import msgspec

from .. import _accel
from ..exceptions import (
    BusFrameError,
    MissingDependencyError,
    WebSocketConnectionNotFoundError,
)
from .base import DeliverFn
from .memory import InProcessBackend
from .publisher import FastPublisher
from .state import RedisState
from .subscriber import FastSubscriber

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - exercised only without the extra
    aioredis = None  # type: ignore[assignment]
    RedisError = OSError  # type: ignore[assignment,misc]

__all__ = ["RedisBackend"]

log = logging.getLogger("falcon_pachinko.redis")

#: Errors that mean "Redis is unreachable right now" (retried, never raised).
_DOWN = (RedisError, OSError, TimeoutError)


class _Record(msgspec.Struct, array_like=True, frozen=True):
    """One connection in a presence hash: its user and rooms."""

    user: str | None
    rooms: list[str]


class _Change(msgspec.Struct, array_like=True, frozen=True):
    """A presence announcement: ``op`` is set, del, hb (heartbeat), bye, or
    snap (the node's whole state, sent after it rewrote its hash).
    """

    seq: int
    op: str
    conn: str = ""
    user: str | None = None
    rooms: list[str] = []
    snap: dict[str, _Record] = {}


_encode = msgspec.msgpack.Encoder().encode
_json = msgspec.json.Encoder().encode
_decode_change = msgspec.msgpack.Decoder(_Change).decode
_decode_record = msgspec.msgpack.Decoder(_Record).decode
_SEQ = "#seq"
#: Largest bus frame accepted from Redis (the codec's default limit).
DEFAULT_MAX_FRAME = 1 << 24


class _Node:
    """The mirror of another node's connections."""

    __slots__ = ("conns", "seen", "seq")

    def __init__(self) -> None:
        self.conns: dict[str, tuple[str | None, frozenset[str]]] = {}
        self.seq = -1
        self.seen = time.monotonic()


class _ClusterRooms(Mapping[str, frozenset[str]]):
    """Live read-only view: room -> member ids on every node."""

    __slots__ = ("_backend",)

    def __init__(self, backend: RedisBackend) -> None:
        self._backend = backend

    def __getitem__(self, room: str) -> frozenset[str]:
        members = self._backend.room_members(room)
        if not members:
            raise KeyError(room)
        return frozenset(members)

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.room_names())

    def __len__(self) -> int:
        return len(self._backend.room_names())


class RedisBackend(InProcessBackend):
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
                "RedisBackend needs redis-py: pip install 'falcon-pachinko[redis]'"
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
        self.node = ""
        self._deliver: DeliverFn | None = None
        self._cluster_rooms = _ClusterRooms(self)
        self._states: dict[str, RedisState] = {}
        self._needs_resync = False
        self._loss_logged = False
        self._fast: FastPublisher | None = None
        self._nodes: dict[str, _Node] = {}
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

    # -- wiring --------------------------------------------------------------------

    def attach(self, node: str, deliver: DeliverFn) -> None:
        self.node = node
        self._deliver = deliver

    @property
    def node_channel(self) -> str:
        return f"{self.prefix}:node:{self.node}"

    def _presence_key(self, node: str) -> str:
        return f"{self.prefix}:presence:{node}"

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
        with contextlib.suppress(*_DOWN):
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

    # -- per-connection state (Redis hash) -----------------------------------------

    def _state_key(self, conn_id: str) -> str:
        return f"{self.prefix}:state:{conn_id}"

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
            ids = set(self._websockets)
            for node in self._live_nodes():
                ids.update(node.conns)
            return frozenset(ids)
        return frozenset(self.room_members(room))

    def _announce(self, conn_id: str) -> None:
        if conn_id in self.hub:
            self._announce_set(conn_id, self.hub.user_of(conn_id), self.hub.rooms_of(conn_id))

    def _announce_set(self, conn_id: str, user: str | None, rooms: list[str]) -> None:
        self._seq += 1
        self._enqueue(("set", conn_id, self._seq, user, rooms))

    # -- cluster presence (local hub + mirrors of live nodes) ----------------------

    def _live_nodes(self) -> list[_Node]:
        horizon = time.monotonic() - self.ttl
        return [n for n in self._nodes.values() if n.seen >= horizon]

    def room_members(self, room: str) -> list[str]:
        ids = list(self.hub.members(room))
        for node in self._live_nodes():
            ids.extend(c for c, (_u, rooms) in node.conns.items() if room in rooms)
        return sorted(ids)

    def room_names(self) -> list[str]:
        names = set(self.hub.rooms())
        for node in self._live_nodes():
            for _u, rooms in node.conns.values():
                names.update(rooms)
        return sorted(names)

    def user_members(self, user_id: str) -> list[str]:
        ids = list(self.hub.user_members(user_id))
        for node in self._live_nodes():
            ids.extend(c for c, (u, _r) in node.conns.items() if u == user_id)
        return sorted(ids)

    def owner_of(self, conn_id: str) -> str | None:
        """The node holding ``conn_id`` (``None`` if no live node has it)."""
        if conn_id in self._websockets:
            return self.node
        horizon = time.monotonic() - self.ttl
        for name, node in self._nodes.items():
            if conn_id in node.conns and node.seen >= horizon:
                return name
        return None

    def cluster_nodes(self) -> list[str]:
        """Live nodes, this one included."""
        horizon = time.monotonic() - self.ttl
        return sorted([self.node, *(k for k, n in self._nodes.items() if n.seen >= horizon)])

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
            if not fast.publish(channel.encode(), frame):
                self._lost(1, "publish backlog full")
            return True
        self._enqueue(("pub", channel, frame))
        return True

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

    async def _publisher(self) -> None:
        """Drain the queue in order, pipelined; Redis errors drop the batch (counted)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                if not self._connected.is_set():
                    # Nothing reaches other nodes while unsubscribed: presence
                    # is rewritten on resubscription; frames are counted lost.
                    lost = sum(1 for item in self._queue if item[0] == "pub")
                    self._queue.clear()
                    self._lost(lost, "redis unavailable")
                    break
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), 1024))]
                try:
                    async with asyncio.timeout(5.0):
                        await self._flush(batch)
                    self._down_since = None
                except _DOWN as exc:
                    self._outage(exc)
                    self._lost(sum(1 for item in batch if item[0] == "pub"), repr(exc))
            self._drained.set()
            if self._loss_logged and self._connected.is_set():
                self._loss_logged = False
                log.warning("bus frames lost so far: %d", self._stats["undelivered"])

    async def _flush(self, batch: list[tuple[Any, ...]]) -> None:
        pipe = self._client.pipeline(transaction=False)
        key = self._presence_key(self.node)
        published = 0
        for item in batch:
            op = item[0]
            if op == "pub":
                pipe.publish(item[1], item[2])
                published += 1
            elif op == "set":
                _op, conn, seq, user, rooms = item
                pipe.hset(key, mapping={conn: _encode(_Record(user, rooms)), _SEQ: seq})
                self._control(pipe, _Change(seq, "set", conn, user, rooms))
            elif op == "del":
                _op, conn, seq = item
                pipe.hdel(key, conn)
                pipe.hset(key, _SEQ, seq)
                self._control(pipe, _Change(seq, "del", conn))
            elif op == "state":
                _op, conn, field, value = item
                skey = self._state_key(conn)
                if value is None:
                    pipe.hdel(skey, field)
                else:
                    pipe.hset(skey, field, value)
                    pipe.expire(skey, max(1, round(self.ttl)))
            elif op == "state_del":
                pipe.delete(self._state_key(item[1]))
            elif op == "hb":
                pipe.expire(key, max(1, round(self.ttl)))
                for conn in self._states:
                    pipe.expire(self._state_key(conn), max(1, round(self.ttl)))
                self._control(pipe, _Change(self._seq, "hb"))
            elif op == "resync":
                self._resync(pipe, key)
            elif op == "bye":
                pipe.delete(key, *(self._state_key(conn) for conn in self._states))
                self._control(pipe, _Change(self._seq, "bye"))
        await pipe.execute()
        self._stats["published"] += published

    def _control(self, pipe: Any, change: _Change) -> None:
        frame = _accel.encode_bus_frame("control", "", None, self.node, _encode(change))
        pipe.publish(self.bus_channel, frame)

    def _resync(self, pipe: Any, key: str) -> None:
        """Rewrite this node's whole presence hash from the hub (after a reconnect)."""
        hub = self.hub
        records = {
            conn_id: _Record(hub.user_of(conn_id), hub.rooms_of(conn_id))
            for conn_id in self._websockets
            if conn_id in hub
        }
        mapping: dict[str, Any] = {_SEQ: self._seq}
        mapping.update((conn_id, _encode(r)) for conn_id, r in records.items())
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, max(1, round(self.ttl)))
        for conn_id, state in self._states.items():
            skey = self._state_key(conn_id)
            pipe.delete(skey)
            if state:
                pipe.hset(skey, mapping={k: _json(v) for k, v in state.items()})
                pipe.expire(skey, max(1, round(self.ttl)))
        # Nodes that loaded the presence before this rewrite learn it here.
        self._control(pipe, _Change(self._seq, "snap", snap=records))

    async def _heartbeat(self) -> None:
        """Refresh this node's TTL and forget nodes that went silent."""
        interval = self.ttl / 3
        while True:
            await asyncio.sleep(interval)
            if self._connected.is_set():
                if self._needs_resync and len(self._queue) < self.max_pending:
                    self._needs_resync = False
                    self._enqueue(("resync",))
                self._enqueue(("hb",))
            horizon = time.monotonic() - self.ttl
            for name in [k for k, n in self._nodes.items() if n.seen < horizon]:
                log.info("node %s missed its heartbeat for %.1fs: removed", name, self.ttl)
                del self._nodes[name]

    # -- subscribing ---------------------------------------------------------------

    async def _subscriber(self) -> None:
        """One pub/sub connection; reconnect with capped exponential backoff."""
        attempt = 0
        while not self._stopping:
            pubsub: Any = None
            sub: FastSubscriber | None = None
            try:
                async with asyncio.timeout(5.0):
                    channels = [self.bus_channel, self.node_channel]
                    sub = await FastSubscriber.open(
                        self.url, channels, 5.0, DEFAULT_MAX_FRAME, self.max_pending
                    )
                    if sub is None:  # not redis:// (TLS, unix socket): redis-py
                        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                        await pubsub.subscribe(*channels)
                    await self._load_presence()
                    self._fast = await FastPublisher.open(self.url, self.max_pending, 2.0)
                if attempt:
                    self._stats["reconnects"] += 1
                    log.warning(
                        "redis at %s reachable again after %.1fs; resubscribed",
                        self.url,
                        time.monotonic() - (self._down_since or time.monotonic()),
                    )
                attempt = 0
                self._down_since = None
                self._connected.set()
                self._enqueue(("resync",))
                if sub is not None:
                    await self._receive_fast(sub)
                else:
                    await self._receive_pubsub(pubsub)
            except asyncio.CancelledError:
                raise
            except _DOWN as exc:
                self._outage(exc)
            finally:
                self._connected.clear()
                self._close_fast()
                if sub is not None:
                    self._stats["dropped_on_receive"] += sub.dropped
                    sub.close()
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        async with asyncio.timeout(1.0):
                            await pubsub.aclose()
            attempt += 1
            delay = min(self.max_backoff, 0.05 * 2 ** min(attempt, 10))
            # Jitter: nodes that lost Redis together do not reconnect in lockstep.
            await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _receive_fast(self, sub: FastSubscriber) -> None:
        """Deliver frames in batches, one wake-up per read (see subscriber.py)."""
        while True:
            await sub.wake.wait()
            sub.wake.clear()
            for frame in sub.take():
                await self._on_frame(frame)
            if sub.closed:
                raise ConnectionError(sub.error or "redis closed the subscriber connection")

    async def _receive_pubsub(self, pubsub: Any) -> None:
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "message":
                await self._on_frame(message["data"])

    def _close_fast(self) -> None:
        fast, self._fast = self._fast, None
        if fast is not None:
            self._stats["published"] += fast.acked
            self._lost(fast.close(), "redis connection lost before acknowledging")

    def _outage(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._stats["outages"] += 1
            log.warning("redis at %s unavailable (%r); local delivery continues", self.url, exc)

    async def _load_presence(self) -> None:
        """Replace the mirrors with the presence hashes now in Redis."""
        seen: dict[str, _Node] = {}
        mine = self._presence_key(self.node)
        async for key in self._client.scan_iter(match=self._presence_key("*"), count=500):
            name = key.decode() if isinstance(key, bytes) else key
            if name == mine:
                continue
            fields = await self._client.hgetall(name)
            node = _Node()
            for field, value in fields.items():
                f = field.decode() if isinstance(field, bytes) else field
                try:
                    if f == _SEQ:
                        node.seq = int(value)
                    else:
                        record = _decode_record(value)
                        node.conns[f] = (record.user, frozenset(record.rooms))
                except (ValueError, msgspec.DecodeError):
                    self._stats["rejected_frames"] += 1
            node_id = name.rsplit(":", 1)[-1]
            current = self._nodes.get(node_id)
            seen[node_id] = current if current is not None and current.seq > node.seq else node
        self._nodes = seen

    async def _on_frame(self, data: Any) -> None:
        self._stats["received"] += 1
        try:
            kind, target, exclude, origin, payload = _accel.decode_bus_frame(data)
            if origin == self.node:
                return
            if kind == "control":
                raw = payload if isinstance(payload, bytes) else payload.encode()
                self._apply(origin, _decode_change(raw))
                return
        except (BusFrameError, TypeError, msgspec.DecodeError) as exc:
            self._stats["rejected_frames"] += 1
            log.warning("rejected a bus frame: %r", exc)
            return
        if self._deliver is None:
            return
        if isinstance(payload, str):
            event: dict[str, Any] = {"type": "websocket.send", "text": payload}
        else:
            event = {"type": "websocket.send", "bytes": payload}
        try:
            await self._deliver(kind, target, exclude, event)
        except Exception:
            log.exception("local delivery of a bus frame failed")

    def _apply(self, origin: str, change: _Change) -> None:
        if change.op == "bye":
            self._nodes.pop(origin, None)
            return
        node = self._nodes.get(origin)
        if node is None:
            node = self._nodes[origin] = _Node()
        node.seen = time.monotonic()
        if change.op == "snap" and change.seq >= node.seq:
            node.seq = change.seq
            node.conns = {c: (r.user, frozenset(r.rooms)) for c, r in change.snap.items()}
            return
        if change.op == "hb" or change.seq <= node.seq:
            return
        node.seq = change.seq
        if change.op == "set":
            node.conns[change.conn] = (change.user, frozenset(change.rooms))
        elif change.op == "del":
            node.conns.pop(change.conn, None)

    # -- observability -------------------------------------------------------------

    def bus_stats(self) -> dict[str, Any]:
        fast = self._fast
        return {
            **self._stats,
            "published": self._stats["published"] + (fast.acked if fast else 0),
            "connected": self._connected.is_set(),
            "pending": len(self._queue) + (fast.outstanding if fast else 0),
            "nodes": len(self._live_nodes()) + 1,
        }

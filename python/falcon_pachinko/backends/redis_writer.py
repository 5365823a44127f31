"""The writer half of ``RedisBackend``: presence, state and slow-path
publishes written to Redis in order, pipelined, from one task.

Everything that is not a hot-path ``PUBLISH`` (those go straight to the
socket through ``publisher.FastPublisher``) is queued by the backend as a
small tuple and written here in batches of up to 1024 operations, one
redis-py pipeline (one round trip) per batch. Redis errors drop the batch
and count its frames as undelivered; the heartbeat rewrites presence and
state whole after a loss, so nothing but the dropped frames is lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from .. import _accel
from .presence import SEQ_FIELD, Change, Record, encode
from .redis_core import DOWN, RedisCore, log

__all__ = ["BusWriter"]

_json = msgspec.json.Encoder().encode


class BusWriter(RedisCore):
    """Drains the ordered queue (see the module docstring)."""

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
                except DOWN as exc:
                    self._outage(exc)
                    self._lost(sum(1 for item in batch if item[0] == "pub"), repr(exc))
            self._drained.set()
            if self._loss_logged and self._connected.is_set():
                self._loss_logged = False
                log.warning("bus frames lost so far: %d", self._stats["undelivered"])

    async def _flush(self, batch: list[tuple[Any, ...]]) -> None:
        pipe = self._client.pipeline(transaction=False)
        key = self._presence_key(self.node)
        ttl = max(1, round(self.ttl))
        published = 0
        for item in batch:
            op = item[0]
            if op == "pub":
                pipe.publish(item[1], item[2])
                published += 1
            elif op == "set":
                _op, conn, seq, user, rooms = item
                pipe.hset(key, mapping={conn: encode(Record(user, rooms)), SEQ_FIELD: seq})
                self._control(pipe, Change(seq, "set", conn, user, rooms))
            elif op == "del":
                _op, conn, seq = item
                pipe.hdel(key, conn)
                pipe.hset(key, SEQ_FIELD, seq)
                self._control(pipe, Change(seq, "del", conn))
            elif op == "state":
                _op, conn, field, value = item
                skey = self._state_key(conn)
                if value is None:
                    pipe.hdel(skey, field)
                else:
                    pipe.hset(skey, field, value)
                    pipe.expire(skey, ttl)
            elif op == "state_del":
                pipe.delete(self._state_key(item[1]))
            elif op == "hb":
                pipe.expire(key, ttl)
                for conn in self._states:
                    pipe.expire(self._state_key(conn), ttl)
                self._control(pipe, Change(self._seq, "hb"))
            elif op == "resync":
                self._resync(pipe, key, ttl)
            elif op == "bye":
                pipe.delete(key, *(self._state_key(conn) for conn in self._states))
                self._control(pipe, Change(self._seq, "bye"))
        await pipe.execute()
        self._stats["published"] += published

    def _control(self, pipe: Any, change: Change) -> None:
        frame = _accel.encode_bus_frame("control", "", None, self.node, encode(change))
        pipe.publish(self.bus_channel, frame)

    def _resync(self, pipe: Any, key: str, ttl: int) -> None:
        """Rewrite this node's whole presence hash from the hub (after a reconnect)."""
        hub = self.hub
        records = {
            conn_id: Record(hub.user_of(conn_id), hub.rooms_of(conn_id))
            for conn_id in self._websockets
            if conn_id in hub
        }
        mapping: dict[str, Any] = {SEQ_FIELD: self._seq}
        mapping.update((conn_id, encode(r)) for conn_id, r in records.items())
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, ttl)
        for conn_id, state in self._states.items():
            skey = self._state_key(conn_id)
            pipe.delete(skey)
            if state:
                pipe.hset(skey, mapping={k: _json(v) for k, v in state.items()})
                pipe.expire(skey, ttl)
        # Nodes that loaded the presence before this rewrite learn it here.
        self._control(pipe, Change(self._seq, "snap", snap=records))

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
            self._presence.expire()

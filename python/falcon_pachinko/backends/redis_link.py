"""The link half of ``RedisBackend``: the node's one subscriber connection,
reconnects, and the frames that arrive on it.

One task keeps the subscription: on each (re)connection it subscribes to
the bus and node channels (``subscriber.FastSubscriber``, or redis-py's
pub/sub for ``rediss://`` and unix sockets), reloads the other nodes'
presence, opens the fast publish connection and queues a rewrite of this
node's presence; a lost connection is retried with capped, jittered
exponential backoff. Incoming frames are decoded natively (pure twin in
``_pure_bus``) and delivered through the manager's local fan-out; control
frames update the presence mirror; anything that does not decode is
counted and logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import msgspec

from .. import _accel
from ..exceptions import BusFrameError
from .presence import decode_change
from .publisher import FastPublisher
from .redis_core import DOWN, RedisCore, log
from .subscriber import FastSubscriber

__all__ = ["DEFAULT_MAX_FRAME", "BusLink"]

#: Largest bus frame accepted from Redis (the codec's default limit).
DEFAULT_MAX_FRAME = 1 << 24


class BusLink(RedisCore):
    """Subscribes, reconnects and receives (see the module docstring)."""

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
                    await self._presence.load(
                        self._client,
                        self._presence_key("*"),
                        self._presence_key(self.node),
                        self._rejected,
                    )
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
            except DOWN as exc:
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

    def _rejected(self) -> None:
        self._stats["rejected_frames"] += 1

    async def _receive_fast(self, sub: FastSubscriber) -> None:
        """Deliver frames in batches, one wake-up per read (see subscriber.py)."""
        echo = self._echo
        while True:
            await sub.wake.wait()
            sub.wake.clear()
            frames = sub.take()
            if echo:
                # PERF: a node receives each of its own frames back from Redis;
                # recognising them by their origin bytes skips the decode
                # (~0.5 µs native, ~2 µs pure a frame, half of a publishing
                # node's receive work).
                end = 5 + len(echo)
                mine = len(frames)
                frames = [f for f in frames if f[5:end] != echo or f[:3] != b"PB\x01"]
                self._stats["received"] += mine - len(frames)
            for frame in frames:
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

    async def _on_frame(self, data: Any) -> None:
        self._stats["received"] += 1
        try:
            kind, target, exclude, origin, payload = _accel.decode_bus_frame(data)
            if origin == self.node:
                return
            if kind == "control":
                raw = payload if isinstance(payload, bytes) else payload.encode()
                self._presence.apply(origin, decode_change(raw))
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
        except Exception:  # noqa: BLE001 - another node's frame never kills the link
            log.exception("local delivery of a bus frame failed")

"""``FastSubscriber``: the node's one pub/sub connection, read by hiredis.

PERF: every node receives every bus frame of the cluster (its own
included), so the receive path bounds the cluster's broadcast rate.
redis-py's pub/sub reads each message through its stream reader, a
per-message timeout and a reply dict (~50-80 µs per message on the
development box), and the RESP parser this module had before, written in
Python, still cost ~12 µs per message: 58% of a node's CPU in a publish
burst (cProfile, docs/benchmarks.md). hiredis' C reader (``hiredis``, the
parser redis-py itself uses when installed) parses the same messages in
~0.5 µs each, so this protocol feeds whatever arrived in one
``data_received`` call to a ``hiredis.Reader`` and hands the frames over
in one wake-up. Plain ``redis://`` URLs only; other schemes use redis-py's
pub/sub.

Bounded and hostile-safe: bytes that are not RESP (a hiredis protocol
error) or a reply still incomplete past ``max_frame`` (plus headroom for
the reply's header) close the connection (the backend reconnects); at most
``max_buffered`` frames wait, older ones beyond that are dropped and
counted, and reading pauses while the consumer catches up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis

__all__ = ["FastSubscriber"]

#: Bytes beyond ``max_frame`` a reader may hold for one reply: its RESP
#: header and channel name, and up to 1 KiB hiredis keeps before compacting
#: its buffer.
_HEADROOM = 64 * 1024


def command(*args: bytes) -> bytes:
    """One RESP command (an array of bulk strings)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class FastSubscriber(asyncio.Protocol):
    """A subscribed connection whose messages queue up in :attr:`frames`."""

    def __init__(self, max_frame: int, max_buffered: int) -> None:
        self.max_frame = max_frame
        self.max_buffered = max_buffered
        self.frames: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.subscribed = 0
        self.dropped = 0
        self.closed = False
        self.error: str | None = None
        self.transport: asyncio.Transport | None = None
        self._reader = hiredis.Reader()
        self._replies: deque[Any] = deque()
        self._paused = False

    @classmethod
    async def open(
        cls, url: str, channels: list[str], timeout: float, max_frame: int, max_buffered: int
    ) -> FastSubscriber | None:
        """Connect, authenticate, subscribe; ``None`` for non-``redis://`` URLs."""
        parts = urlsplit(url)
        if parts.scheme != "redis":
            return None
        loop = asyncio.get_running_loop()
        proto = cls(max_frame, max_buffered)
        async with asyncio.timeout(timeout):
            await loop.create_connection(
                lambda: proto, parts.hostname or "127.0.0.1", parts.port or 6379
            )
            try:
                if parts.password:
                    args = [b"AUTH"]
                    if parts.username:
                        args.append(unquote(parts.username).encode())
                    args.append(unquote(parts.password).encode())
                    proto._write(command(*args))
                    while not proto._replies and not proto.closed:
                        await proto._wait()
                    if not proto._replies or proto._replies.popleft() != b"OK":
                        raise ConnectionError("redis AUTH failed")
                proto._write(command(b"SUBSCRIBE", *(c.encode() for c in channels)))
                while proto.subscribed < len(channels):
                    if proto.closed:
                        raise ConnectionError(proto.error or "redis closed the connection")
                    await proto._wait()
            except BaseException:
                proto.close()
                raise
        return proto

    async def _wait(self) -> None:
        self.wake.clear()
        await self.wake.wait()

    def _write(self, data: bytes) -> None:
        if self.transport is None:
            raise ConnectionError(self.error or "redis closed the connection")
        self.transport.write(data)

    def take(self) -> list[bytes]:
        """The frames received so far (resumes reading if it was paused)."""
        frames = list(self.frames)
        self.frames.clear()
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return frames

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        self.wake.set()

    def _fail(self, why: str) -> None:
        self.error = f"malformed reply from redis: {why}"
        self.close()

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        reader = self._reader
        reader.feed(data)
        frames = self.frames
        try:
            # PERF: hiredis returns False (not None: a nil reply is None) when
            # the buffer holds no complete reply.
            while (reply := reader.gets()) is not False:
                if type(reply) is list and len(reply) == 3 and reply[0] == b"message":
                    frame = reply[2]
                    if type(frame) is not bytes:
                        self._fail(f"message payload of type {type(frame).__name__}")
                        return
                    if len(frames) >= self.max_buffered:
                        frames.popleft()
                        self.dropped += 1
                    frames.append(frame)
                elif type(reply) is list and reply and reply[0] == b"subscribe":
                    self.subscribed += 1
                elif self.subscribed == 0:  # AUTH's reply (b"OK" or a ReplyError)
                    self._replies.append(reply)
                else:
                    self._fail(f"unexpected reply {str(reply)[:40]!r}")
                    return
        except hiredis.ProtocolError as exc:
            self._fail(str(exc)[:80])
            return
        if reader.len() > self.max_frame + _HEADROOM:
            self._fail("reply over the frame limit")
            return
        if len(frames) >= self.max_buffered and not self._paused and self.transport:
            self._paused = True
            self.transport.pause_reading()
        self.wake.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        if exc is not None and self.error is None:
            self.error = repr(exc)
        self.wake.set()

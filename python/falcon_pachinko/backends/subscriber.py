"""``FastSubscriber``: the node's one pub/sub connection, parsed in batches.

PERF: every node receives every bus frame of the cluster (its own
included), so the receive path bounds the cluster's broadcast rate.
redis-py's pub/sub reads each message through its stream reader, a
per-message timeout and a reply dict, ~50-80 µs per message on the
development box (most of a node's CPU in a broadcast burst). Pub/sub
replies are fixed, simple arrays (``*3 $7 message $n channel $m data``),
so this protocol parses whatever arrived in one ``data_received`` call and
hands the frames over in one wake-up. Plain ``redis://`` URLs only; other
schemes use redis-py's pub/sub.

Bounded and hostile-safe: a bulk string longer than ``max_frame`` or any
reply that is not well-formed RESP closes the connection (the backend
reconnects); at most ``max_buffered`` frames wait, older ones beyond that
are dropped and counted, and reading pauses while the consumer catches up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["FastSubscriber"]


class _Incomplete(Exception):
    """More bytes are needed."""


class _Malformed(Exception):
    """Not RESP we expect."""


def _line(buf: bytearray, pos: int) -> tuple[bytes, int]:
    end = buf.find(b"\r\n", pos)
    if end < 0:
        if len(buf) - pos > 64:
            raise _Malformed("header line too long")
        raise _Incomplete
    return bytes(buf[pos:end]), end + 2


def _parse(buf: bytearray, pos: int, max_frame: int) -> tuple[list[Any], int]:
    """One array reply of bulk strings/integers starting at ``pos``."""
    head, pos = _line(buf, pos)
    if not head.startswith((b"*", b">")) or not head[1:].isdigit():
        raise _Malformed(f"unexpected reply {head[:20]!r}")
    count = int(head[1:])
    if count > 8:
        raise _Malformed("array too long")
    items: list[Any] = []
    for _ in range(count):
        head, pos = _line(buf, pos)
        if head.startswith(b":") and head[1:].lstrip(b"-").isdigit():
            items.append(int(head[1:]))
        elif head.startswith(b"$") and head[1:].isdigit():
            size = int(head[1:])
            if size > max_frame:
                raise _Malformed("bulk string over the frame limit")
            end = pos + size
            if end + 2 > len(buf):
                raise _Incomplete
            if buf[end : end + 2] != b"\r\n":
                raise _Malformed("bulk string not terminated")
            items.append(bytes(buf[pos:end]))
            pos = end + 2
        else:
            raise _Malformed(f"unexpected element {head[:20]!r}")
    return items, pos


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
        self._buf = bytearray()
        self._replies: deque[bytes] = deque()
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
                    proto._write(args)
                    while not proto._replies and not proto.closed:
                        await proto._wait()
                    if not proto._replies or not proto._replies.popleft().startswith(b"+"):
                        raise ConnectionError("redis AUTH failed")
                proto._write([b"SUBSCRIBE", *(c.encode() for c in channels)])
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

    def _write(self, args: list[bytes]) -> None:
        assert self.transport is not None
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        self.transport.write(b"".join(out))

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

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos = 0
        try:
            while pos < len(buf):
                if buf[pos] in b"+-" and self.subscribed == 0:  # AUTH reply
                    line, pos = _line(buf, pos)
                    self._replies.append(line)
                    continue
                items, pos = _parse(buf, pos, self.max_frame)
                kind = items[0] if items else b""
                if kind == b"message" and len(items) == 3 and isinstance(items[2], bytes):
                    if len(self.frames) >= self.max_buffered:
                        self.frames.popleft()
                        self.dropped += 1
                    self.frames.append(items[2])
                elif kind == b"subscribe":
                    self.subscribed += 1
        except _Incomplete:
            pass
        except _Malformed as exc:
            self.error = f"malformed reply from redis: {exc}"
            self.close()
            return
        del buf[:pos]
        if len(self.frames) >= self.max_buffered and not self._paused and self.transport:
            self._paused = True
            self.transport.pause_reading()
        self.wake.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        if exc is not None and self.error is None:
            self.error = repr(exc)
        self.wake.set()

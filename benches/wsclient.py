"""A lean WebSocket client for the load script: the load, not the load generator.

On a 2-core machine the server and the client share the CPU. The
``websockets`` asyncio client spends 60-125 µs of CPU per round trip (its
sans-I/O parser, an assembler and a task per connection): as much as the
server it measures, so the figures said as much about the client as the
server (``client_cpu_us_per_rtt`` in ``load_e2e``'s output shows it).

This client does the opening handshake and the permessage-deflate
negotiation with ``websockets``' own sans-I/O ``ClientProtocol`` (the same
offer its asyncio client makes, so every server does the same work as
before), then does the data path itself on an ``asyncio.Protocol``: frames
built and parsed inline, masking by a random key per frame, zlib with the
negotiated window and context-takeover settings. It implements only what
the load phases need: text frames, one message per frame, pings answered,
a close ends the connection. It is not a general client.
"""

from __future__ import annotations

import asyncio
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    enable_client_permessage_deflate,
)
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

__all__ = ["LeanClient", "lean_connect"]

_TAIL = b"\x00\x00\xff\xff"
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA
HANDSHAKE_TIMEOUT = 10.0
READ_BUFFER = 65536


class LeanClient(asyncio.BufferedProtocol):
    """One connection. ``on_message(text)`` is called for each text message
    (a plain callback: the load phases count and answer inside it)."""

    def __init__(self, url: str, compression: str | None) -> None:
        self._handshake = ClientProtocol(
            parse_uri(url),
            extensions=enable_client_permessage_deflate(None) if compression else None,
        )
        # Received bytes land in this buffer (``BufferedProtocol``): a plain
        # Protocol gets a new bytes object per read, allocated at asyncio's
        # 256 KiB read size, which glibc may serve by mmap + munmap per read.
        self._buffer = bytearray(READ_BUFFER)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.on_message: Callable[[str], None] = _ignore
        self._deflate: PerMessageDeflate | None = None
        self._compress: Any = None
        self._decompress: Any = None
        self._rand = random.Random()

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses
        self.transport = cast("asyncio.Transport", transport)
        self._handshake.send_request(self._handshake.connect())
        self.transport.write(b"".join(self._handshake.data_to_send()))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._end == len(self._buffer):  # full: keep the unparsed tail only
            tail = self._end - self._start
            if tail * 2 > len(self._buffer):  # mostly one long frame: a larger buffer
                grown = bytearray(2 * len(self._buffer))
                grown[:tail] = self._view[self._start : self._end]
                self._buffer, self._view = grown, memoryview(grown)
            else:
                self._buffer[:tail] = self._buffer[self._start : self._end]
            self._start, self._end = 0, tail
        return self._view[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self._end += nbytes
        if not self.opened.done():
            data = bytes(self._view[self._start : self._end])
            self._start = self._end = 0
            self._handshake_data(data)
            return
        buf, pos, end = self._buffer, self._start, self._end
        while end - pos >= 2:
            b0, size = buf[pos], buf[pos + 1] & 0x7F
            start = pos + 2
            if size == 126:
                if end - pos < 4:
                    break
                (size,) = struct.unpack_from("!H", buf, pos + 2)
                start = pos + 4
            elif size == 127:
                if end - pos < 10:
                    break
                (size,) = struct.unpack_from("!Q", buf, pos + 2)
                start = pos + 10
            if end < start + size:
                break
            pos = start + size
            self._frame(b0, bytes(self._view[start:pos]))
        if pos == self._end:  # all parsed: reuse the buffer from its start
            self._start = self._end = 0
        else:
            self._start = pos

    # -- sending ------------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """One masked text frame, compressed when the extension was agreed."""
        payload = text.encode()
        first = 0x80 | _TEXT
        if self._compress is not None:
            payload = self._compressed(payload)
            first |= 0x40  # RSV1: compressed
        self._write_frame(first, payload)

    def close(self) -> None:
        """Send a close frame (1000) and let the server end the connection."""
        if self.transport is not None and not self.transport.is_closing():
            self._write_frame(0x80 | _CLOSE, struct.pack("!H", 1000))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # -- internals ----------------------------------------------------------------------

    def _handshake_data(self, data: bytes) -> None:
        proto = self._handshake
        proto.receive_data(data)
        events = proto.events_received()
        if proto.handshake_exc is not None:
            self.opened.set_exception(proto.handshake_exc)
            return
        if proto.state is not State.OPEN:
            return
        if len(events) != 1 or not isinstance(events[0], Response):
            self.opened.set_exception(RuntimeError(f"frames before the first send: {events}"))
            return
        for extension in proto.extensions:
            if isinstance(extension, PerMessageDeflate):
                self._deflate = extension
                self._compress = self._new_compressor()
                self._decompress = self._new_decompressor()
        self.opened.set_result(None)

    def _new_compressor(self) -> Any:
        assert self._deflate is not None
        return zlib.compressobj(wbits=-self._deflate.local_max_window_bits, memLevel=5)

    def _new_decompressor(self) -> Any:
        assert self._deflate is not None
        return zlib.decompressobj(wbits=-self._deflate.remote_max_window_bits)

    def _compressed(self, payload: bytes) -> bytes:
        assert self._deflate is not None
        if self._deflate.local_no_context_takeover:
            self._compress = self._new_compressor()
        data: bytes = self._compress.compress(payload) + self._compress.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4] if data.endswith(_TAIL) else data

    def _frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        if opcode == _TEXT:
            if b0 & 0x40:  # compressed by the server
                assert self._deflate is not None
                if self._deflate.remote_no_context_takeover:
                    self._decompress = self._new_decompressor()
                payload = self._decompress.decompress(payload + _TAIL)
            self.on_message(payload.decode())
        elif opcode == _PING:
            self._write_frame(0x80 | _PONG, payload)
        elif opcode == _CLOSE and self.transport is not None:
            self.transport.close()
        # binary, pong and continuation frames: not used by the load phases

    def _write_frame(self, first: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = bytes((first, 0x80 | n))
        elif n < 65536:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        key = self._rand.randbytes(4)
        mask = int.from_bytes((key * (n // 4 + 1))[:n], "little")
        masked = (int.from_bytes(payload, "little") ^ mask).to_bytes(n, "little")
        assert self.transport is not None
        self.transport.write(header + key + masked)


def _ignore(text: str) -> None:
    return None


async def lean_connect(url: str, compression: str | None) -> LeanClient:
    """Connect and finish the opening handshake (bounded)."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: LeanClient(url, compression), parts.hostname, parts.port
    )
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            await client.opened
    except BaseException:
        client.abort()
        raise
    return client

"""``WebSocketSimulator``: an in-memory WebSocket for hermetic tests.

It stands where ``falcon.asgi.WebSocket`` stands: the router accepts and
closes it, the receive loop reads frames pushed by the test, and whatever
the application sends (directly or through the connection manager's fan-out)
lands in ``sent_messages``. Test-side waits have a default timeout, so a test
that expects a frame which never comes fails with a clear message instead of
hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from falcon.errors import WebSocketDisconnected

__all__ = ["DEFAULT_TIMEOUT", "WebSocketSimulator"]

DEFAULT_TIMEOUT = 2.0
_encode = msgspec.json.Encoder().encode


class _Disconnect:
    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class WebSocketSimulator:
    """In-memory ``WebSocketLike`` with inbound and outbound queues."""

    def __init__(
        self, *, subprotocols: tuple[str, ...] = (), timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.subprotocols = tuple(subprotocols)
        self.timeout = timeout
        self.sent_messages: list[str | bytes] = []
        self.accepted_subprotocol: str | None = None
        self.close_code: int | None = None
        self._inbound: asyncio.Queue[str | bytes | _Disconnect] = asyncio.Queue()
        self._outbound: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._accepted = False
        self._peer_closed: int | None = None
        self._peer_closing = False

    # -- state ------------------------------------------------------------------

    @property
    def unaccepted(self) -> bool:
        return not self._accepted and self.close_code is None

    @property
    def accepted(self) -> bool:
        """Whether the application accepted the handshake (even if closed since)."""
        return self._accepted

    @property
    def closed(self) -> bool:
        return self.close_code is not None or self._peer_closed is not None

    @property
    def ready(self) -> bool:
        return self._accepted and not self.closed

    def connected_now(self) -> bool:
        """True while accepted and neither side has closed."""
        return self.ready

    # -- server side (what the application calls) -------------------------------

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        if self.closed:
            raise WebSocketDisconnected(self.close_code or 1000)
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError("WebSocket subprotocol must be from the list sent by the client")
        self._accepted = True
        self.accepted_subprotocol = subprotocol

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.close_code is None and self._peer_closed is None:
            self.close_code = 1000 if code is None else code
            self._inbound.put_nowait(_Disconnect(self.close_code))

    def _check_open(self) -> None:
        if not self._accepted:
            raise RuntimeError("WebSocket connection has not yet been accepted")
        if self.closed:
            raise WebSocketDisconnected(self.close_code or self._peer_closed or 1000)

    async def send_text(self, payload: str) -> None:
        if not isinstance(payload, str):
            raise TypeError("payload must be a string")
        self._record(payload)

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError("payload must be a byte string")
        self._record(bytes(payload))

    send_bytes = send_data

    async def send_media(self, media: Any) -> None:
        self._record(_encode(media).decode("utf-8"))

    async def asgi_send(self, event: dict[str, Any]) -> None:
        """Raw ASGI send, as the connection manager's fan-out uses it."""
        text = event.get("text")
        self._record(text if text is not None else bytes(event["bytes"]))

    def _record(self, frame: str | bytes) -> None:
        self._check_open()
        self.sent_messages.append(frame)
        self._outbound.put_nowait(frame)

    async def receive(self) -> str | bytes:
        """Next frame pushed by the test; ``WebSocketDisconnected`` at the end."""
        item = await self._inbound.get()
        if isinstance(item, _Disconnect):
            if self.close_code is None:
                self._peer_closed = item.code  # the server learns of it only now
            self._inbound.put_nowait(item)  # every later receive sees the end too
            raise WebSocketDisconnected(item.code)
        return item

    async def receive_text(self) -> str:
        frame = await self.receive()
        if not isinstance(frame, str):
            raise TypeError("expected a text frame")
        return frame

    async def receive_data(self) -> bytes:
        frame = await self.receive()
        if not isinstance(frame, bytes):
            raise TypeError("expected a binary frame")
        return frame

    # -- test side --------------------------------------------------------------

    async def push_text(self, message: str) -> None:
        if not isinstance(message, str):
            raise TypeError("text frames must be str")
        self._inbound.put_nowait(message)

    async def push_bytes(self, payload: bytes | bytearray | memoryview) -> None:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError("binary frames must be bytes-like")
        self._inbound.put_nowait(bytes(payload))

    async def push_json(self, payload: Any) -> None:
        """Queue ``payload`` JSON-encoded as a text frame."""
        self._inbound.put_nowait(_encode(payload).decode("utf-8"))

    async def disconnect(self, code: int = 1000) -> None:
        """The client goes away with ``code``."""
        if not self._peer_closing and self.close_code is None:
            self._peer_closing = True
            self._inbound.put_nowait(_Disconnect(code))

    def pop_sent(self) -> str | bytes:
        """The oldest frame the application sent and the test has not taken yet."""
        try:
            return self._outbound.get_nowait()
        except asyncio.QueueEmpty:
            raise LookupError("No sent messages available") from None

    async def next_sent(self, timeout: float | None = None) -> str | bytes:
        """Wait (bounded) for the next frame the application sends."""
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(self._outbound.get(), limit)
        except TimeoutError:
            raise TimeoutError(f"no frame was sent within {limit}s") from None

    async def next_json(self, timeout: float | None = None) -> Any:
        return msgspec.json.decode(await self.next_sent(timeout))

    @asynccontextmanager
    async def connected(
        self, *, subprotocol: str | None = None
    ) -> AsyncIterator[WebSocketSimulator]:
        """Accept on entry, close on exit (for testing code that takes a socket)."""
        await self.accept(subprotocol=subprotocol)
        try:
            yield self
        finally:
            await self.close()

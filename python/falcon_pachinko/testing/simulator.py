"""``WebSocketSimulator``: an in-memory WebSocket for hermetic tests.

It stands where ``falcon.asgi.WebSocket`` stands: the router accepts and
closes it, the receive loop reads frames pushed by the test, and whatever
the application sends (directly or through the connection manager's fan-out)
lands in ``sent_messages``. Test-side waits have a default timeout, so a test
that expects a frame which never comes fails with a clear message instead of
hanging.

Two things follow the published simulator rather than Falcon, because code
written against it relies on them: sends before ``accept()`` are recorded
(Falcon raises; pass ``strict=True`` to get Falcon's rule), and a subprotocol
is checked against the client's offer only when that offer is known
(``subprotocols=`` given).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import msgspec
from falcon.errors import OperationNotAllowed, WebSocketDisconnected

__all__ = ["DEFAULT_TIMEOUT", "FrameKind", "WebSocketSimulator"]

DEFAULT_TIMEOUT = 2.0
FrameKind = Literal["text", "bytes", "json"]
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decode_json(frame: object, payload_type: Any = None) -> Any:
    """Decode a text or binary frame as JSON, into ``payload_type`` when given."""
    if isinstance(frame, str):
        data: bytes = frame.encode("utf-8")
    elif isinstance(frame, (bytes, bytearray, memoryview)):
        data = bytes(frame)
    else:
        raise TypeError(f"JSON frames must be text or binary, not {type(frame).__name__}")
    key = Any if payload_type is None else payload_type
    decoder = _decoders.get(key)
    if decoder is None:
        decoder = _decoders[key] = msgspec.json.Decoder(key)
    return decoder.decode(data)


class _Disconnect:
    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class WebSocketSimulator:
    """In-memory ``WebSocketLike`` with inbound and outbound queues.

    Parameters
    ----------
    subprotocols:
        The client's offer. ``None`` (default) means unknown: any subprotocol
        the application picks is accepted. A sequence is enforced by
        ``accept()`` like a real handshake.
    timeout:
        Default bound, in seconds, of the test-side waits.
    strict:
        ``True`` enforces Falcon's rules: no send before ``accept()``, one
        ``accept()`` only.
    """

    def __init__(
        self,
        *,
        subprotocols: tuple[str, ...] | list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        strict: bool = False,
    ) -> None:
        self._offer_known = subprotocols is not None
        self.subprotocols: tuple[str, ...] = tuple(subprotocols or ())
        self.timeout = timeout
        self.strict = strict
        self.sent_messages: list[str | bytes] = []
        self.received_messages: list[str | bytes] = []
        self.accepted_subprotocol: str | None = None
        self.close_code: int | None = None
        self._inbound: asyncio.Queue[str | bytes | _Disconnect] = asyncio.Queue()
        self._outbound: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._sentinels = 0
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

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the application accepted with (published name)."""
        return self.accepted_subprotocol

    def connected_now(self) -> bool:
        """True while accepted and neither side has closed."""
        return self.ready

    def pending_inbound(self) -> int:
        """Frames pushed by the test that the application has not received yet."""
        return self._inbound.qsize() - self._sentinels

    def pending_outbound(self) -> int:
        """Frames the application sent that the test has not taken yet."""
        return self._outbound.qsize()

    # -- server side (what the application calls) -------------------------------

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        if self.closed:
            raise WebSocketDisconnected(self.close_code or 1000)
        if self._accepted:
            if self.strict:
                raise OperationNotAllowed(
                    "accept() may only be called once on an open WebSocket connection"
                )
            return
        if subprotocol is not None and self._offer_known and subprotocol not in self.subprotocols:
            raise ValueError("WebSocket subprotocol must be from the list sent by the client")
        self._accepted = True
        self.accepted_subprotocol = subprotocol

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.close_code is None and self._peer_closed is None:
            self.close_code = 1000 if code is None else code
            self._put_end(self.close_code)

    def _put_end(self, code: int) -> None:
        self._sentinels += 1
        self._inbound.put_nowait(_Disconnect(code))

    def _check_open(self) -> None:
        if self.closed:
            raise WebSocketDisconnected(self.close_code or self._peer_closed or 1000)
        if self.strict and not self._accepted:
            raise RuntimeError("WebSocket connection has not yet been accepted")

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
        """JSON-encode ``media`` into a text frame, as Falcon's default handler does."""
        self._record(_encode(media).decode("utf-8"))

    async def send_json(self, payload: Any) -> None:
        """JSON-encode ``payload`` into a binary frame (published behaviour)."""
        self._record(_encode(payload))

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
        self.received_messages.append(item)
        return item

    receive_media = receive

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

    receive_bytes = receive_data

    async def receive_json(self, payload_type: Any = None) -> Any:
        """Next inbound frame decoded as JSON (into ``payload_type`` when given)."""
        return decode_json(await self.receive(), payload_type)

    # -- test side --------------------------------------------------------------

    async def push_message(self, payload: Any, *, kind: FrameKind = "json") -> None:
        """Queue ``payload`` as a frame from the client: ``kind`` is ``"json"``
        (encoded into a text frame), ``"text"`` or ``"bytes"``.
        """
        if kind == "json":
            frame: str | bytes = _encode(payload).decode("utf-8")
        elif kind == "text":
            if not isinstance(payload, str):
                raise TypeError("text frames must be str")
            frame = payload
        elif kind == "bytes":
            if not isinstance(payload, (bytes, bytearray, memoryview)):
                raise TypeError("binary frames must be bytes-like")
            frame = bytes(payload)
        else:
            raise ValueError(f"Unsupported frame kind: {kind!r}; use 'json', 'text' or 'bytes'")
        self._inbound.put_nowait(frame)

    async def push_text(self, message: str) -> None:
        await self.push_message(message, kind="text")

    async def push_bytes(self, payload: bytes | bytearray | memoryview) -> None:
        await self.push_message(payload, kind="bytes")

    async def push_json(self, payload: Any) -> None:
        """Queue ``payload`` JSON-encoded as a text frame."""
        await self.push_message(payload, kind="json")

    async def disconnect(self, code: int = 1000) -> None:
        """The client goes away with ``code``."""
        if not self._peer_closing and self.close_code is None:
            self._peer_closing = True
            self._put_end(code)

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

    async def next_json(self, payload_type: Any = None, *, timeout: float | None = None) -> Any:
        """Wait (bounded) for the next sent frame, decoded as JSON."""
        return decode_json(await self.next_sent(timeout), payload_type)

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

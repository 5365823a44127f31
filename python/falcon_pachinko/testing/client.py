"""``WebSocketTestClient``: a real WebSocket client for tests against a server.

Built on the ``websockets`` asyncio client. Every receive has a default
timeout, and ``ws://`` URLs need ``allow_insecure=True`` so that a test suite
never talks plain text by accident.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from ..exceptions import MissingDependencyError
from .simulator import decode_json

__all__ = ["TraceEvent", "WebSocketSession", "WebSocketTestClient"]

_encode = msgspec.json.Encoder().encode
_INSECURE_MSG = (
    "Insecure websocket URLs require allow_insecure=True. Use a wss:// URL for secure connections."
)

Direction = Literal["send", "receive", "close", "error"]
PayloadKind = Literal["text", "bytes", "json", "close"]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One step of a traced session, as published: numbered from 0 in order.

    ``kind`` is how the frame was sent or read (``"json"`` payloads are the
    decoded values); a close is traced with ``kind="close"`` and
    ``payload={"code": ..., "reason": ...}``. ``timestamp`` is
    ``time.monotonic()`` at the step.
    """

    index: int
    direction: Direction
    kind: PayloadKind
    payload: Any
    timestamp: float = field(default_factory=time.monotonic)


class WebSocketSession:
    """An open client connection with bounded receives and an optional trace."""

    def __init__(
        self, connection: Any, *, timeout: float, capture_trace: bool, path: str = "/"
    ) -> None:
        self._conn = connection
        self.path = path
        self.timeout = timeout
        self.capture_trace = capture_trace
        self.trace: list[TraceEvent] = []

    def _note(self, direction: Direction, kind: PayloadKind, payload: Any) -> None:
        if self.capture_trace:
            self.trace.append(TraceEvent(len(self.trace), direction, kind, payload))

    @property
    def subprotocol(self) -> str | None:
        return self._conn.subprotocol  # type: ignore[no-any-return]

    @property
    def close_code(self) -> int | None:
        return self._conn.close_code  # type: ignore[no-any-return]

    @property
    def closed(self) -> bool:
        return self._conn.close_code is not None

    async def send_text(self, message: str) -> None:
        if not isinstance(message, str):
            raise TypeError("Text frames require str payloads")
        await self._conn.send(message)
        self._note("send", "text", message)

    async def send_bytes(self, payload: bytes) -> None:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError("Binary frames require bytes payloads")
        await self._conn.send(bytes(payload))
        self._note("send", "bytes", bytes(payload))

    async def send_json(self, payload: Any) -> None:
        await self._conn.send(_encode(payload).decode("utf-8"))
        self._note("send", "json", payload)

    async def send(
        self, payload: Any, *, kind: Literal["text", "bytes", "json"] | None = None
    ) -> None:
        """Send ``payload``; ``kind`` defaults to its type (str, bytes, else JSON)."""
        if kind is None:
            kind = (
                "text"
                if isinstance(payload, str)
                else "bytes"
                if isinstance(payload, bytes)
                else "json"
            )
        if kind == "text":
            await self.send_text(payload)
        elif kind == "bytes":
            await self.send_bytes(payload)
        elif kind == "json":
            await self.send_json(payload)
        else:
            raise ValueError(f"Unsupported frame kind: {kind!r}")

    async def _recv(self, timeout: float | None) -> str | bytes:
        import asyncio

        limit = self.timeout if timeout is None else timeout
        try:
            frame: str | bytes = await asyncio.wait_for(self._conn.recv(), limit)
        except TimeoutError:
            raise TimeoutError(f"no frame received within {limit}s") from None
        return frame

    async def receive(
        self,
        timeout: float | None = None,
        *,
        kind: Literal["text", "bytes", "json"] | None = None,
        payload_type: Any = None,
    ) -> Any:
        """The next frame (bounded wait): raw, or checked/decoded by ``kind``."""
        frame = await self._recv(timeout)
        if kind is None:
            kind = "text" if isinstance(frame, str) else "bytes"
        if kind == "json":
            value: Any = decode_json(frame, payload_type)
        elif kind == "text":
            if not isinstance(frame, str):
                raise TypeError("Expected text frame but received bytes")
            value = frame
        elif kind == "bytes":
            if not isinstance(frame, bytes):
                raise TypeError("Expected binary frame but received text")
            value = frame
        else:
            raise ValueError(f"Unsupported frame kind: {kind!r}")
        self._note("receive", kind, value)
        return value

    async def receive_text(self, timeout: float | None = None) -> str:
        return await self.receive(timeout, kind="text")  # type: ignore[no-any-return]

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        return await self.receive(timeout, kind="bytes")  # type: ignore[no-any-return]

    async def receive_json(self, payload_type: Any = None, *, timeout: float | None = None) -> Any:
        """The next frame decoded as JSON (into ``payload_type`` when given)."""
        return await self.receive(timeout, kind="json", payload_type=payload_type)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        try:
            await self._conn.close(code, reason)
        except Exception as exc:
            self._note("error", "close", {"code": code, "reason": reason, "exception": str(exc)})
            raise
        self._note("close", "close", {"code": code, "reason": reason})

    async def wait_closed(self, timeout: float | None = None) -> int | None:
        """Wait (bounded) for the server to close; the close code."""
        import asyncio

        await asyncio.wait_for(
            self._conn.wait_closed(), self.timeout if timeout is None else timeout
        )
        reason = getattr(self._conn, "close_reason", None) or ""
        self._note("close", "close", {"code": self.close_code, "reason": reason})
        return self.close_code


class WebSocketTestClient:
    """Connects to a running server (``base_url`` like ``wss://host:port``)."""

    def __init__(
        self,
        base_url: str,
        *,
        default_headers: dict[str, str] | None = None,
        subprotocols: list[str] | None = None,
        open_timeout: float = 10.0,
        capture_trace: bool = False,
        allow_insecure: bool = False,
        receive_timeout: float = 5.0,
    ) -> None:
        if base_url.startswith("ws://") and not allow_insecure:
            raise ValueError(_INSECURE_MSG)
        if not base_url.startswith(("ws://", "wss://")):
            raise ValueError("base_url must start with ws:// or wss://")
        self.base_url = base_url.rstrip("/")
        self.default_headers = dict(default_headers or {})
        self.subprotocols = list(subprotocols or [])
        self.open_timeout = open_timeout
        self.capture_trace = capture_trace
        self.receive_timeout = receive_timeout
        self.allow_insecure = allow_insecure

    @asynccontextmanager
    async def connect(
        self,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        subprotocols: list[str] | None = None,
        trace: bool | None = None,
    ) -> AsyncIterator[WebSocketSession]:
        """Open a session to ``path`` (relative to ``base_url``, or an absolute
        ``ws(s)://`` URL); ``subprotocols``/``trace`` override the client's defaults.
        """
        try:
            from websockets.asyncio.client import connect
        except ImportError as exc:  # pragma: no cover - websockets is a test dependency
            raise MissingDependencyError(
                "WebSocketTestClient requires the 'websockets' package"
            ) from exc

        if path.startswith(("ws://", "wss://")):
            if path.startswith("ws://") and not self.allow_insecure:
                raise ValueError(_INSECURE_MSG)
            url = path
        else:
            url = self.base_url + (path if path.startswith("/") else "/" + path)
        async with connect(
            url,
            additional_headers={**self.default_headers, **(headers or {})},
            subprotocols=(  # type: ignore[arg-type]
                self.subprotocols if subprotocols is None else subprotocols
            )
            or None,
            open_timeout=self.open_timeout,
        ) as conn:
            yield WebSocketSession(
                conn,
                timeout=self.receive_timeout,
                capture_trace=self.capture_trace if trace is None else trace,
                path=path,
            )

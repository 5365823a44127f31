"""``WebSocketTestClient``: a real WebSocket client for tests against a server.

Built on the ``websockets`` asyncio client. Every receive has a default
timeout, and ``ws://`` URLs need ``allow_insecure=True`` so that a test suite
never talks plain text by accident.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

__all__ = ["TraceEvent", "WebSocketSession", "WebSocketTestClient"]

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One step of a traced session: what went which way, and when."""

    direction: Literal["send", "receive", "close", "open"]
    data: str | bytes | int | None
    timestamp: float


class WebSocketSession:
    """An open client connection with bounded receives and an optional trace."""

    def __init__(self, connection: Any, *, timeout: float, capture_trace: bool) -> None:
        self._conn = connection
        self.timeout = timeout
        self.capture_trace = capture_trace
        self.trace: list[TraceEvent] = []
        self._note("open", None)

    def _note(self, direction: Literal["send", "receive", "close", "open"], data: Any) -> None:
        if self.capture_trace:
            self.trace.append(TraceEvent(direction, data, time.monotonic()))

    @property
    def subprotocol(self) -> str | None:
        return self._conn.subprotocol  # type: ignore[no-any-return]

    @property
    def close_code(self) -> int | None:
        return self._conn.close_code  # type: ignore[no-any-return]

    async def send_text(self, message: str) -> None:
        self._note("send", message)
        await self._conn.send(message)

    async def send_bytes(self, payload: bytes) -> None:
        self._note("send", payload)
        await self._conn.send(payload)

    async def send_json(self, payload: Any) -> None:
        await self.send_text(_encode(payload).decode("utf-8"))

    async def receive(self, timeout: float | None = None) -> str | bytes:
        import asyncio

        limit = self.timeout if timeout is None else timeout
        try:
            frame: str | bytes = await asyncio.wait_for(self._conn.recv(), limit)
        except TimeoutError:
            raise TimeoutError(f"no frame received within {limit}s") from None
        self._note("receive", frame)
        return frame

    async def receive_text(self, timeout: float | None = None) -> str:
        frame = await self.receive(timeout)
        if not isinstance(frame, str):
            raise TypeError("expected a text frame, got a binary one")
        return frame

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        frame = await self.receive(timeout)
        if not isinstance(frame, bytes):
            raise TypeError("expected a binary frame, got a text one")
        return frame

    async def receive_json(self, timeout: float | None = None) -> Any:
        return msgspec.json.decode(await self.receive(timeout))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._note("close", code)
        await self._conn.close(code, reason)

    async def wait_closed(self, timeout: float | None = None) -> int | None:
        """Wait (bounded) for the server to close; the close code."""
        import asyncio

        await asyncio.wait_for(
            self._conn.wait_closed(), self.timeout if timeout is None else timeout
        )
        self._note("close", self.close_code)
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
            raise ValueError("ws:// is unencrypted; pass allow_insecure=True to use it in tests")
        if not base_url.startswith(("ws://", "wss://")):
            raise ValueError("base_url must start with ws:// or wss://")
        self.base_url = base_url.rstrip("/")
        self.default_headers = dict(default_headers or {})
        self.subprotocols = list(subprotocols or [])
        self.open_timeout = open_timeout
        self.capture_trace = capture_trace
        self.receive_timeout = receive_timeout

    @asynccontextmanager
    async def connect(
        self, path: str, *, headers: dict[str, str] | None = None
    ) -> AsyncIterator[WebSocketSession]:
        from websockets.asyncio.client import connect

        url = self.base_url + (path if path.startswith("/") else "/" + path)
        async with connect(
            url,
            additional_headers={**self.default_headers, **(headers or {})},
            subprotocols=self.subprotocols or None,  # type: ignore[arg-type]
            open_timeout=self.open_timeout,
        ) as conn:
            yield WebSocketSession(
                conn, timeout=self.receive_timeout, capture_trace=self.capture_trace
            )

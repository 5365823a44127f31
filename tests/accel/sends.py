"""Stub ASGI-style send callables with scripted behaviour, per connection id."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


class Suspend:
    """Awaitable that suspends once (yields ``token``), then completes."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __await__(self) -> Generator[str, None, None]:
        yield self.token


class ScriptedSend:
    """``send(frame)`` that completes, suspends or raises, as scripted."""

    def __init__(self, conn_id: str, mode: str) -> None:
        self.conn_id = conn_id
        self.mode = mode
        self.frames: list[Any] = []

    async def __call__(self, frame: Any) -> None:
        self.frames.append(frame)
        if self.mode == "suspend":
            await Suspend(f"waiting:{self.conn_id}")
        elif self.mode == "fail":
            raise ConnectionResetError(self.conn_id)

"""Stub connections for manager unit tests: an ASGI ``send`` with a behaviour."""

from __future__ import annotations

import asyncio
from typing import Any


class StubWS:
    """``mode``: ``ok`` records, ``block`` waits on ``gate``, ``fail`` raises."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.frames: list[Any] = []
        self.events: list[dict[str, Any]] = []
        self.gate = asyncio.Event()
        self.close_code: int | None = None

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    async def asgi_send(self, event: dict[str, Any]) -> None:
        if self.mode == "block":
            await self.gate.wait()
        if self.mode == "fail":
            raise ConnectionResetError("peer reset")
        self.events.append(event)
        self.frames.append(event.get("text", event.get("bytes")))

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.close_code is None:
            self.close_code = 1000 if code is None else code

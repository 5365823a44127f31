"""The WebSocket surface the library relies on, and the frame receiver.

``WebSocketLike`` is what resources and the router need from a connection:
Falcon's ``falcon.asgi.WebSocket`` satisfies it, and so does the testing
simulator. ``frame_receiver`` picks the cheapest way to receive whole frames
(text or binary) from a given connection once, not per message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import falcon.asgi

__all__ = ["Receiver", "WebSocketLike", "falcon_receive_parts", "frame_receiver"]

Receiver = Callable[[], Awaitable[str | bytes]]


@runtime_checkable
class WebSocketLike(Protocol):
    """Minimal WebSocket interface (a subset of ``falcon.asgi.WebSocket``)."""

    @property
    def subprotocols(self) -> tuple[str, ...]: ...

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None: ...

    async def close(self, code: int | None = None, reason: str | None = None) -> None: ...

    async def send_text(self, payload: str) -> None: ...

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None: ...

    async def receive_text(self) -> str: ...


def falcon_receive_parts(ws: Any) -> tuple[Callable[[], None], Callable[[], Any]] | None:
    """``(require_open, receive_event)`` for a ``falcon.asgi.WebSocket``, else None.

    Falcon's public ``receive_text``/``receive_data`` each refuse the other
    frame type after consuming it, so the loop does what they do:
    ``_require_accepted()`` (raises ``WebSocketDisconnected`` once the server
    closed; ``ws.closed`` would also be true while frames the client sent
    before its close are still buffered) then ``_receive()`` for the ASGI
    event. Both exist since Falcon 3 and are pinned by the integration tests.
    """
    if isinstance(ws, falcon.asgi.WebSocket) and hasattr(ws, "_receive"):
        return ws._require_accepted, ws._receive
    return None


def frame_receiver(ws: Any) -> Receiver:
    """An ``async () -> str | bytes`` for WebSocket-like objects other than
    Falcon's (whose events the receive loop reads itself, see
    :func:`falcon_receive_parts`): ``receive()`` returning ``str | bytes``
    (the simulator has it), else ``receive_text()``.
    """
    receive_any = getattr(ws, "receive", None)
    if callable(receive_any):
        return receive_any  # type: ignore[no-any-return]
    return ws.receive_text  # type: ignore[no-any-return]

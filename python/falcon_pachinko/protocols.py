"""The WebSocket surface the library relies on, and capability detection.

``WebSocketLike`` is the published protocol: ``accept``, ``close``,
``send_media`` and ``receive_media``. Falcon's ``falcon.asgi.WebSocket``
satisfies it, so does the testing simulator, and so does a four-method stub
written against the published API. Anything richer (``receive()``,
``receive_text()``, ``send_text()`` ...) is a capability found at run time
with :func:`capability`, once per connection, not per message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import falcon.asgi

__all__ = [
    "FRAME_RECEIVERS",
    "Receiver",
    "WebSocketLike",
    "capability",
    "falcon_receive_parts",
    "frame_receiver",
    "receives_frames",
]

Receiver = Callable[[], Awaitable[Any]]


@runtime_checkable
class WebSocketLike(Protocol):
    """Minimal WebSocket interface (published; a subset of ``falcon.asgi.WebSocket``)."""

    async def accept(self, subprotocol: str | None = None) -> None: ...

    async def close(self, code: int = 1000) -> None: ...

    async def send_media(self, data: object) -> None: ...

    async def receive_media(self) -> object: ...


# Methods that return one whole frame (``str`` or ``bytes``), best first:
# ``receive`` (the simulator: either type), then Falcon's typed ones.
FRAME_RECEIVERS = ("receive", "receive_text", "receive_data", "receive_bytes")


def capability(ws: Any, name: str) -> Callable[..., Any] | None:
    """``ws``'s method ``name`` when it really has one, else ``None``.

    NOTE: a class that subclasses ``WebSocketLike`` explicitly inherits the
    protocol's bodiless stubs; such an inherited stub does not count as a
    capability (calling it would return ``None``, not do the work).
    """
    method = getattr(ws, name, None)
    if not callable(method):
        return None
    stub = getattr(WebSocketLike, name, None)
    if stub is not None and getattr(method, "__func__", None) is stub:
        return None
    return method  # type: ignore[no-any-return]


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


def frame_receiver(ws: Any) -> Receiver | None:
    """An ``async () -> frame`` for WebSocket-like objects other than
    Falcon's (whose events the receive loop reads itself, see
    :func:`falcon_receive_parts`), or ``None`` when ``ws`` has none of
    :data:`FRAME_RECEIVERS`.
    """
    for name in FRAME_RECEIVERS:
        method = capability(ws, name)
        if method is not None:
            return method
    return None


def receives_frames(ws: Any) -> bool:
    """Whether the router can run a receive loop on ``ws``.

    ``receive_media`` alone does not count: it yields decoded JSON, not
    frames, and the published router only did the handshake on such sockets.
    """
    return falcon_receive_parts(ws) is not None or frame_receiver(ws) is not None

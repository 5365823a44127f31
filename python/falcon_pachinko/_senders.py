"""Encoding a message once, and the per-connection send callable.

A broadcast encodes its message to one ASGI ``websocket.send`` event that
every recipient shares. For ``falcon.asgi.WebSocket`` the send callable is
the connection's raw ASGI ``send`` (Falcon's ``send_text`` adds per-call
state checks a fan-out does not need: the manager tracks liveness itself);
any other object is adapted through ``send_text``/``send_data``, or, for an
object that only has the published ``send_media``, through that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import falcon.asgi
import msgspec

from .protocols import capability

__all__ = ["SendFn", "encode_event", "sender_for"]

SendFn = Callable[[dict[str, Any]], Awaitable[None]]
_encode = msgspec.json.Encoder().encode


def encode_event(data: Any) -> dict[str, Any]:
    """One ASGI send event: bytes-like as a binary frame, anything else
    JSON-encoded by msgspec as a text frame.

    ``str`` is a JSON value like any other (``"hi"`` goes out with its
    quotes, as Falcon's ``send_media`` sends it); pre-encoded JSON text is
    passed as ``msgspec.Raw`` and goes out verbatim.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return {"type": "websocket.send", "bytes": bytes(data)}
    return {"type": "websocket.send", "text": _encode(data).decode("utf-8")}


def sender_for(ws: Any) -> SendFn:
    """The cheapest correct ``async send(event)`` for one connection."""
    if isinstance(ws, falcon.asgi.WebSocket) and hasattr(ws, "_asgi_send"):
        return ws._asgi_send
    asgi_send = getattr(ws, "asgi_send", None)
    if callable(asgi_send):
        return asgi_send  # type: ignore[no-any-return]
    # Capabilities as the router detects them: a bodiless stub inherited
    # from WebSocketLike is not a method to send with.
    if capability(ws, "send_text") is None:
        if capability(ws, "send_media") is None:
            raise TypeError(
                f"{type(ws).__name__} cannot send: it needs asgi_send, send_text/"
                "send_data or send_media"
            )
        return _media_sender(ws)

    async def send(event: dict[str, Any]) -> None:
        text = event.get("text")
        if text is not None:
            await ws.send_text(text)
        else:
            await ws.send_data(event["bytes"])

    return send


def _media_sender(ws: Any) -> SendFn:
    """Adapter for objects with only ``send_media``: the frame's JSON is
    decoded back to the value it encodes (costs a decode per recipient, only
    for such objects; Falcon sockets and the simulator take the event as is).
    """
    decode = msgspec.json.decode

    async def send(event: dict[str, Any]) -> None:
        text = event.get("text")
        await ws.send_media(decode(text) if text is not None else event["bytes"])

    return send

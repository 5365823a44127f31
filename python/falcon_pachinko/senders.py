"""Encoding a message once, and the per-connection send callable.

A broadcast encodes its message to one ASGI ``websocket.send`` event that
every recipient shares. For ``falcon.asgi.WebSocket`` the send callable is
the connection's raw ASGI ``send`` (Falcon's ``send_text`` adds per-call
state checks a fan-out does not need: the manager tracks liveness itself);
any other object is adapted through ``send_text``/``send_data``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import falcon.asgi
import msgspec

__all__ = ["SendFn", "encode_event", "sender_for"]

SendFn = Callable[[dict[str, Any]], Awaitable[None]]
_encode = msgspec.json.Encoder().encode


def encode_event(data: Any) -> dict[str, Any]:
    """One ASGI send event: ``str`` as text, bytes-like as binary, anything
    else JSON-encoded by msgspec (Structs, dicts, lists, ...) as text.
    """
    if isinstance(data, str):
        return {"type": "websocket.send", "text": data}
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

    async def send(event: dict[str, Any]) -> None:
        text = event.get("text")
        if text is not None:
            await ws.send_text(text)
        else:
            await ws.send_data(event["bytes"])

    return send

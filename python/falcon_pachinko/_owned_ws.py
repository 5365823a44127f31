"""The send side of the Falcon sockets whose receive the router owns.

Falcon's ``send_text``/``send_data``/``send_media`` each check the socket's
state and then await a second coroutine (``_send``) that checks the
receiver and awaits the server's ``send``. A handler's reply is the second
half of every round trip, so for the connections the router serves (see
``_receive.own_receive``) the socket's class becomes :class:`OwnedWebSocket`:
a ``falcon.asgi.WebSocket`` (``isinstance`` holds, no new state: empty
``__slots__``) whose three send methods do the same checks, in the same
order, with the same exceptions, in one coroutine down to the server's
``send``. That is about a quarter of what the library added per round trip
over a bare ASGI app (callgrind, docs/benchmarks.md).

NOTE: the checks are Falcon's own, written once more (Falcon 4.0-4.4
``WebSocket.send_*`` and ``_send``); tests/unit/test_owned_ws.py runs every
state (not accepted, closed, peer gone, server raising) through both
classes and demands the same outcome, so a Falcon that changes them fails
there. ``own_receive`` only swaps a socket whose class is exactly Falcon's
(a user's subclass keeps its own methods).
"""

from __future__ import annotations

from typing import Any

import falcon.asgi
from falcon import WebSocketPayloadType
from falcon.errors import WebSocketDisconnected

try:  # NOTE: private; see _receive's module docstring
    from falcon.asgi.ws import _WebSocketState
except ImportError:  # pragma: no cover - own_receive then never swaps
    _WebSocketState = None  # type: ignore[assignment,misc]

__all__ = ["OwnedWebSocket", "own_sends"]

_ACCEPTED = getattr(_WebSocketState, "ACCEPTED", None)
_CLOSED = getattr(_WebSocketState, "CLOSED", None)
_TEXT = WebSocketPayloadType.TEXT


class OwnedWebSocket(falcon.asgi.WebSocket):
    """``falcon.asgi.WebSocket`` with single-coroutine sends (see module)."""

    __slots__ = ()

    async def send_text(self, payload: str) -> None:
        """Falcon's ``send_text``: the same checks, one coroutine."""
        if self._state is not _ACCEPTED:
            self._require_accepted()  # raises what Falcon raises
        if not isinstance(payload, str):
            raise TypeError("payload must be a string")
        if self._buffered_receiver.client_disconnected:
            _peer_gone(self)
        try:
            await self._asgi_send({"type": "websocket.send", "text": payload})
        except Exception as ex:
            _send_failed(self, ex)
            raise

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None:
        """Falcon's ``send_data``: the same checks, one coroutine."""
        if self._state is not _ACCEPTED:
            self._require_accepted()
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError("payload must be a byte string")
        if self._buffered_receiver.client_disconnected:
            _peer_gone(self)
        try:
            await self._asgi_send({"type": "websocket.send", "bytes": bytes(payload)})
        except Exception as ex:
            _send_failed(self, ex)
            raise

    async def send_media(self, media: object, payload_type: WebSocketPayloadType = _TEXT) -> None:
        """Falcon's ``send_media``: the same media handlers, one coroutine."""
        if self._state is not _ACCEPTED:
            self._require_accepted()
        if payload_type is _TEXT:
            event = {"type": "websocket.send", "text": self._mh_text_serialize(media)}
        else:
            event = {"type": "websocket.send", "bytes": self._mh_bin_serialize(media)}
        if self._buffered_receiver.client_disconnected:
            _peer_gone(self)
        try:
            await self._asgi_send(event)
        except Exception as ex:
            _send_failed(self, ex)
            raise


# Only reached from an accepted socket (the send methods check that first),
# so Falcon's ``_send``'s second test (the state is CLOSED) can only be true
# once the receiver saw the peer go: that case is the one below.
def _peer_gone(ws: OwnedWebSocket) -> None:
    """Falcon's ``_send`` when the receiver saw the peer go: mark the socket
    closed with the peer's code and raise ``WebSocketDisconnected``."""
    ws._state = _CLOSED  # type: ignore[assignment]
    ws._close_code = ws._buffered_receiver.client_disconnected_code
    raise WebSocketDisconnected(ws._close_code)


def _send_failed(ws: OwnedWebSocket, ex: Exception) -> None:
    """Falcon's ``_send`` when the server's ``send`` raised: an error that
    means the peer is gone is raised as Falcon's (socket marked closed);
    anything else returns and the caller re-raises it unchanged."""
    translated = ws._translate_webserver_error(ex)
    if translated:
        ws._state = _CLOSED  # type: ignore[assignment]
        if isinstance(translated, WebSocketDisconnected):
            ws._close_code = translated.code
        raise translated from ex


def own_sends(ws: Any) -> None:
    """Give a Falcon socket the router owns :class:`OwnedWebSocket`'s sends.

    Only a socket whose class is exactly ``falcon.asgi.WebSocket`` (a
    subclass keeps its own methods), and only when the private state enum
    this relies on exists.
    """
    if _ACCEPTED is not None and type(ws) is falcon.asgi.WebSocket:
        ws.__class__ = OwnedWebSocket

"""``OwnedWebSocket``'s sends against Falcon's own, state by state.

The router gives the sockets whose receive it owns a ``falcon.asgi.WebSocket``
subclass whose ``send_text``/``send_data``/``send_media`` repeat Falcon's
checks in one coroutine (``_owned_ws``). Every case here runs the same calls
on a plain Falcon socket and on an owned one and demands the same outcome:
the ASGI events the server got, the exception (class, code, message), and
the socket's state afterwards. A Falcon release that changes its send path
fails here, not in users' apps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import falcon
import falcon.asgi
import pytest
from falcon import WebSocketPayloadType

from falcon_pachinko._owned_ws import OwnedWebSocket, own_sends

from ..support.asgi import make_scope


class ClientGone(OSError):
    """What uvicorn's send raises for a peer that is gone (an ``OSError``)."""


def make(owned: bool, send_error: BaseException | None = None) -> tuple[Any, list[Any]]:
    """A Falcon socket (owned or not) whose server records events or raises."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(event: dict[str, Any]) -> None:
        if send_error is not None and event["type"] == "websocket.send":
            raise send_error
        sent.append(event)

    options = falcon.asgi.App().ws_options
    ws = falcon.asgi.WebSocket(
        "2.4",
        make_scope("/ws"),
        receive,
        send,
        options.media_handlers,
        0,
        options.default_close_reasons,
    )
    if owned:
        own_sends(ws)
    return ws, sent


async def outcome(
    owned: bool,
    act: Callable[[Any], Awaitable[None]],
    *,
    prepare: Callable[[Any], Awaitable[None] | None] | None = None,
    send_error: BaseException | None = None,
) -> tuple[Any, ...]:
    ws, sent = make(owned, send_error)
    if prepare is not None:
        maybe = prepare(ws)
        if maybe is not None:
            await maybe
    try:
        await act(ws)
        error: tuple[Any, ...] = ()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        error = (type(exc), str(exc), getattr(exc, "code", None), type(exc.__cause__))
    return (error, sent, ws.closed, ws.unaccepted, ws._close_code)


async def accept(ws: Any) -> None:
    await ws.accept()


async def accept_then_close(ws: Any) -> None:
    await ws.accept()
    await ws.close(4001)


async def accept_then_peer_gone(ws: Any) -> None:
    await ws.accept()
    ws._buffered_receiver.client_disconnected = True
    ws._buffered_receiver.client_disconnected_code = 1006


SENDS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "text": lambda ws: ws.send_text("hi"),
    "text-not-str": lambda ws: ws.send_text(b"hi"),
    "data": lambda ws: ws.send_data(b"\x00\x01"),
    "data-bytearray": lambda ws: ws.send_data(bytearray(b"ab")),
    "data-memoryview": lambda ws: ws.send_data(memoryview(b"ab")),
    "data-not-bytes": lambda ws: ws.send_data("ab"),
    "media": lambda ws: ws.send_media({"a": [1, 2]}),
    "media-binary": lambda ws: ws.send_media(b"raw", WebSocketPayloadType.BINARY),
    "media-unserialisable": lambda ws: ws.send_media({"a": object()}),
}
STATES: dict[str, Callable[[Any], Awaitable[None]] | None] = {
    "not accepted": None,
    "accepted": accept,
    "closed by the app": accept_then_close,
    "peer gone (receiver saw it)": accept_then_peer_gone,
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("send", list(SENDS))
async def test_same_outcome_as_falcon(state: str, send: str) -> None:
    falcons = await outcome(False, SENDS[send], prepare=STATES[state])
    ours = await outcome(True, SENDS[send], prepare=STATES[state])
    assert ours == falcons


SERVER_ERRORS: dict[str, BaseException] = {
    # uvicorn (wsproto, websockets-sansio): an OSError subclass
    "peer gone (OSError)": ClientGone(),
    # the websockets library's message for a normal close
    "closed 1000": RuntimeError("sent 1000 (OK); then received 1000 (OK) code = 1000 (OK)"),
    # anything else is the server's bug: re-raised unchanged
    "other": RuntimeError("boom"),
}


@pytest.mark.parametrize("error", list(SERVER_ERRORS))
@pytest.mark.parametrize("send", ["text", "data", "media"])
async def test_a_server_error_is_translated_as_falcon_does(error: str, send: str) -> None:
    falcons = await outcome(False, SENDS[send], prepare=accept, send_error=SERVER_ERRORS[error])
    ours = await outcome(True, SENDS[send], prepare=accept, send_error=SERVER_ERRORS[error])
    assert ours == falcons
    assert ours[0], "every case here raises"


async def test_an_untranslated_error_is_the_servers_own_object() -> None:
    boom = RuntimeError("boom")
    ws, _ = make(True, boom)
    await ws.accept()
    with pytest.raises(RuntimeError) as raised:
        await ws.send_text("x")
    assert raised.value is boom


async def test_only_falcons_own_class_is_swapped() -> None:
    """A user's subclass keeps its methods; anything else is left alone."""

    class Mine(falcon.asgi.WebSocket):
        __slots__ = ()

    ws, _ = make(False)
    own_sends(ws)
    assert type(ws) is OwnedWebSocket and isinstance(ws, falcon.asgi.WebSocket)
    mine, _ = make(False)
    mine.__class__ = Mine
    own_sends(mine)
    assert type(mine) is Mine
    other = object()
    own_sends(other)
    assert type(other) is object


def test_owned_socket_adds_no_state() -> None:
    assert OwnedWebSocket.__slots__ == ()
    for name in ("send_text", "send_data", "send_media"):
        assert getattr(OwnedWebSocket, name) is not getattr(falcon.asgi.WebSocket, name)

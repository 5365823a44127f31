"""A client closed as slow is really disconnected, under every uvicorn WebSocket.

Found by a newcomer running the chat demo: a client that stops reading is
closed as slow (1013), but the close frame cannot be written to its full
socket, the bounded close gave up after 1 s, and the TCP connection stayed
established with megabytes in its send queue until the client went (never,
for a hostile one); its eventual disconnect then logged a traceback. Now the
manager aborts the connection when the close cannot be sent: the server
reports the disconnect to the app, ``on_disconnect`` runs once, and nothing
is logged at ERROR.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import falcon.asgi
import pytest

import falcon_pachinko as fp

from ..support.raw import raw_handshake
from ..support.rooms import Room
from ..support.server import running_server

FRAME = "x" * 100_000


ESTABLISHED = 1  # tcpi_state in Linux's struct tcp_info


def tcp_state(sock: socket.socket) -> int:
    """The kernel's TCP state of ``sock``, read without reading any data."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


async def cut_off(sock: socket.socket, within: float = 15.0) -> bool:
    """Whether the server ends the connection while the client never reads.

    The client keeps not reading (reading would drain the server's queue and
    let a graceful close through): only a reset, or a close the server
    could send despite the full window, takes the socket out of
    ESTABLISHED.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if tcp_state(sock) != ESTABLISHED:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.parametrize("ws_impl", ["websockets-sansio", "websockets", "wsproto"])
async def test_a_slow_closed_client_is_disconnected(
    ws_impl: str, caplog: pytest.LogCaptureFixture
) -> None:
    Room.disconnects = []
    app = falcon.asgi.App()
    manager = fp.install(app, outbox_size=4, send_timeout=0.5)
    router = fp.WebSocketRouter()
    router.add_route("/room", Room)
    router.mount("/ws", app=app)
    caplog.set_level(logging.INFO)
    # Default kernel buffers, as in production: Linux grows the server's
    # send queue to megabytes for a client that stopped reading, so the
    # close frame waits behind them in the kernel, not in asyncio.
    async with running_server(app, ws=ws_impl) as srv:
        stalled = await raw_handshake(srv.port, "/ws/room", rcvbuf=4096)
        async with asyncio.timeout(10):
            while manager.room_size("all") < 1:
                await asyncio.sleep(0.01)
        async with asyncio.timeout(30):
            while manager.stats()["slow_closes"] < 1:
                await manager.broadcast_to_room("all", FRAME)
                await asyncio.sleep(0.01)
        async with asyncio.timeout(10):  # the server noticed: on_disconnect ran
            while not Room.disconnects:
                await asyncio.sleep(0.02)
        assert await cut_off(stalled)  # and its connection ended, unread
        stalled.close()
        await asyncio.sleep(0.2)
        assert Room.disconnects == [Room.disconnects[0]]  # once
        assert manager.room_size("all") == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert any("reset the connection" in r.getMessage() for r in caplog.records)

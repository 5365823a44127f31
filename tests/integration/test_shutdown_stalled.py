"""A client that stopped reading cannot hold up the server's shutdown.

Found by an outside view of the chat demo: with a client that stopped
reading and megabytes queued for it (not yet long enough to be closed as
slow), Ctrl-C left uvicorn "Waiting for connections to close" for as long
as the client kept not reading: uvicorn's close frame waited behind the
unread bytes, and a closing asyncio transport waits for its buffer to
drain. The library now bounds that wait when a connection ends: bytes the
peer does not take for ``send_timeout`` are given up (the connection is
reset, logged at INFO), so the shutdown completes and the lifespan's own
shutdown runs.
"""

from __future__ import annotations

import asyncio
import logging

import falcon.asgi
import pytest

import falcon_pachinko as fp

from ..support.raw import raw_handshake
from ..support.rooms import Room
from ..support.server import running_server

FRAME = "x" * 100_000
STALL = 1.0  # the manager's send_timeout in this test (seconds)


async def test_shutdown_completes_despite_a_client_that_stopped_reading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    Room.disconnects = []
    app = falcon.asgi.App()
    # a large outbox and a stall limit far above the fill time: the client
    # is never closed as slow before the shutdown starts
    manager = fp.install(app, outbox_size=10_000, send_timeout=STALL)
    router = fp.WebSocketRouter()
    router.add_route("/room", Room)
    router.mount("/ws", app=app)
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()
    async with running_server(app) as srv:
        stalled = await raw_handshake(srv.port, "/ws/room", rcvbuf=4096)
        async with asyncio.timeout(10):
            while manager.room_size("all") < 1:
                await asyncio.sleep(0.01)
        # fill the server's send queue to the stalled client, quickly
        for _ in range(40):
            await manager.publish_to_room("all", FRAME)
        await asyncio.sleep(0.3)
        assert manager.stats()["slow_closes"] == 0  # not (yet) closed as slow
        srv.server.should_exit = True
        started = loop.time()
        async with asyncio.timeout(5 * STALL + 10):
            while srv.task is not None and not srv.task.done():
                await asyncio.sleep(0.05)
        took = loop.time() - started
        stalled.close()
    assert Room.disconnects == [1012]  # uvicorn's shutdown code, once
    assert any("never read" in r.getMessage() for r in caplog.records), took
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]

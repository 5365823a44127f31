"""One client's burst of queued frames must not hold the event loop, and a
peer that resets with frames still queued is reported with its real code.

uvicorn parses every frame of one socket read into its queue at once, and
its ``receive`` returns queued events without the event loop running. The
router's own receive path (issue 13) once dispatched such a burst in a
single event-loop turn: one client writing thousands of small frames froze
every other connection until the burst was done (Falcon's buffered receive
yields on every frame). The loop now yields after ``FAIR_BATCH`` frames in a
row. Checked by counting, not timing: a bystander's probes must be answered
while the burst is being handled, not only before or after it.

Run under both implementations (``FALCON_PACHINKO_IMPL``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import struct
from typing import Any

import falcon.asgi
import pytest
from websockets.asyncio.client import connect

import falcon_pachinko as fp
from falcon_pachinko._receive import FAIR_BATCH

from ..support.raw import raw_handshake, reset
from ..support.server import running_server

#: Small enough to arrive in one socket read (so uvicorn queues all of it
#: at once), large enough for many fairness yields.
BURST = 1200
STATE: dict[str, Any] = {}


def masked(text: str) -> bytes:
    """A client text frame (masked with a zero key, so the payload reads as is)."""
    payload = text.encode()
    assert len(payload) < 126
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + b"\0\0\0\0" + payload


class Counter(fp.WebSocketResource):
    async def on_tick(self, ws: Any, payload: Any) -> None:
        STATE["ticks"] += 1

    async def on_probe(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"type": "seen", "payload": STATE["ticks"]})

    async def on_slow(self, ws: Any, payload: Any) -> None:
        STATE["in_slow"].set()
        await asyncio.sleep(0.3)

    async def on_echo(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"type": "echo", "payload": payload})

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        STATE["codes"].append(close_code)


def make_app() -> falcon.asgi.App:
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/c", Counter)
    router.mount("/ws", app=app)
    return app


@pytest.fixture(autouse=True)
def _state() -> None:
    STATE.clear()
    STATE.update(ticks=0, codes=[], in_slow=asyncio.Event())


async def send_burst(port: int, frames: bytes) -> socket.socket:
    """Open a raw WebSocket and write ``frames`` in one write (then return)."""
    sock = await raw_handshake(port, "/ws/c")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    await asyncio.get_running_loop().sock_sendall(sock, frames)
    return sock


async def test_a_burst_does_not_hold_the_loop_for_other_connections() -> None:
    async with running_server(make_app()) as server, connect(server.ws_url + "/ws/c") as bystander:
        seen: list[int] = []

        async def probe() -> None:
            for _ in range(5 * BURST):  # bounded: ends once the burst is done
                await bystander.send('{"type":"probe","payload":0}')
                async with asyncio.timeout(10):
                    reply = await bystander.recv()
                count = int(str(reply).split('"payload":')[1].rstrip("}"))
                seen.append(count)
                if count >= BURST:
                    return

        prober = asyncio.create_task(probe())
        async with asyncio.timeout(10):
            while not seen:  # the bystander is in its loop
                await asyncio.sleep(0.001)
        flooder = await send_burst(server.port, masked('{"type":"tick","payload":0}') * BURST)
        async with asyncio.timeout(30):
            await prober
        flooder.close()
    during = [count for count in seen if 0 < count < BURST]
    # Answered while the burst was being handled: the flooder's frames were
    # interleaved with the bystander's, at most a few batches apart.
    assert during, f"probes saw only {sorted(set(seen))}: the burst held the loop"
    assert STATE["ticks"] == BURST
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert max(gaps, default=0) <= 8 * FAIR_BATCH, gaps


@pytest.mark.parametrize("queued", [4, BURST // 2])
async def test_a_reset_with_frames_queued_reports_the_servers_close_code(queued: int) -> None:
    """The peer resets while a handler is busy and hundreds of its frames
    wait in the server's queue (as many as Falcon's ``max_receive_queue``,
    4, which the read-ahead takes, or hundreds more): the first send after the handler raises,
    and ``on_disconnect`` gets the code the server reports for a lost
    connection (uvicorn: 1005), not the send error's generic 1000."""
    async with running_server(make_app()) as server:
        frames = (
            masked('{"type":"slow","payload":0}') + masked('{"type":"echo","payload":1}') * queued
        )
        sock = await send_burst(server.port, frames)
        async with asyncio.timeout(10):
            await STATE["in_slow"].wait()
        reset(sock)
        async with asyncio.timeout(10):
            while not STATE["codes"]:
                await asyncio.sleep(0.01)
    assert STATE["codes"] == [1005]


async def test_replies_to_a_reset_peer_are_not_written_into_the_dead_socket(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A flood of echo frames, then a reset while the server is still
    answering: asyncio warns ``socket.send() raised exception`` for every
    write into a transport it already knows is lost. The loop sees the
    closing transport and the handlers' sends raise instead."""
    caplog.set_level(logging.WARNING, logger="asyncio")
    frame = masked('{"type":"echo","payload":1}')
    async with running_server(make_app()) as server:
        for _ in range(3):
            sock = await raw_handshake(server.port, "/ws/c", rcvbuf=4096)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            loop = asyncio.get_running_loop()
            writer = asyncio.create_task(loop.sock_sendall(sock, frame * 12_000))
            await asyncio.sleep(0.05)  # the server is answering, the client reads nothing
            writer.cancel()
            reset(sock)
        async with asyncio.timeout(10):
            while len(STATE["codes"]) < 3:
                await asyncio.sleep(0.01)
    lost_writes = [r for r in caplog.records if "socket.send() raised" in r.getMessage()]
    assert lost_writes == []
    assert all(code != 1000 for code in STATE["codes"]), STATE["codes"]

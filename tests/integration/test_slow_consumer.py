"""200 clients in one room, one of which never reads (§5.7 isolation)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import falcon.asgi
import pytest
from websockets.asyncio.client import connect

import falcon_pachinko as fp

from ..support.raw import raw_handshake
from ..support.server import listening_socket, running_server

CLIENTS = 199
BROADCASTS = 60
SIZE = 8_000
OUTBOX = 8


class Room(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room("all")
        return True


@pytest.mark.parametrize("overflow", ["close", "drop_oldest"])
async def test_one_stalled_client_does_not_hold_back_199_others(overflow: str) -> None:
    app = falcon.asgi.App()
    manager = fp.install(app, outbox_size=OUTBOX, overflow=overflow, send_timeout=1.0)
    router = fp.WebSocketRouter()
    router.add_route("/room", Room)
    router.mount("/ws", app=app)
    sock = listening_socket(sndbuf=16_384)
    async with running_server(app, sock=sock) as srv:
        stalled = await raw_handshake(srv.port, "/ws/room", rcvbuf=4096)
        clients = [await connect(srv.ws_url + "/ws/room", max_size=None) for _ in range(CLIENTS)]
        counts = [0] * CLIENTS
        latencies: list[float] = []
        sent_at: dict[int, float] = {}

        async def reader(i: int, ws: Any) -> None:
            async for frame in ws:
                seq = int(frame[1:7])  # a JSON string: '"000042xxx..."'
                if i == 0:
                    latencies.append(time.monotonic() - sent_at[seq])
                counts[i] += 1
                if counts[i] == BROADCASTS:
                    return

        async with asyncio.timeout(20):
            while manager.room_size("all") < CLIENTS + 1:
                await asyncio.sleep(0.01)
        readers = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(clients)]
        troubled = 0
        max_queued = 0
        for seq in range(BROADCASTS):
            sent_at[seq] = time.monotonic()
            text = f"{seq:06d}" + "x" * SIZE
            result = await manager.broadcast_to_room("all", text, timeout=0.5)
            # Only ever the stalled peer: reported in the result, never raised.
            assert result.pending + result.dropped + result.closed <= 1
            troubled += result.pending + result.dropped + result.closed
            for conn_id in manager.room_members("all"):
                max_queued = max(max_queued, manager.connection_stats(conn_id)["queued"])
        async with asyncio.timeout(30):
            await asyncio.gather(*readers)
        assert counts == [BROADCASTS] * CLIENTS  # every healthy client got everything
        assert max(latencies) < 5.0  # bounded: never waits for the stalled peer
        assert max_queued <= OUTBOX  # memory bounded by the outbox
        assert troubled >= 1
        stats = manager.stats()
        assert stats["slow_closes"] == 1  # the stalled peer, closed as slow
        assert manager.room_size("all") == CLIENTS  # and removed
        for ws in clients:
            await ws.close()
        stalled.close()

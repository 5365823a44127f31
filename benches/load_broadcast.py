"""Broadcast cost per recipient against real uvicorn connections.

``python -m benches.load_broadcast [--clients N] [--rounds R] [--size B]``

Starts uvicorn on 127.0.0.1 (free port), connects N real ``websockets``
clients to one room, then alternates, R times each: the manager's
``broadcast_to_room`` (native hub, isolation) and the floor (encode once,
plain loop awaiting each connection's raw ASGI send, no isolation). Clients
drain between rounds, so every send finds a writable transport. Prints the
median server-side time per recipient of each and their ratio. Bounded in
count and time; talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import falcon.asgi
import msgspec
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import running_server

import falcon_pachinko as fp


class Member(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room("all")
        return True


async def run(clients: int, rounds: int, size: int) -> dict[str, float]:
    app = falcon.asgi.App()
    manager = fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/m", Member)
    router.mount("/ws", app=app)
    message = {"type": "tick", "payload": {"text": "x" * size}}
    async with running_server(app) as srv:
        conns = [await connect(srv.ws_url + "/ws/m", max_size=None) for _ in range(clients)]
        received = [0] * clients

        async def drain(i: int, ws: Any) -> None:
            async for _ in ws:
                received[i] += 1

        readers = [asyncio.create_task(drain(i, ws)) for i, ws in enumerate(conns)]
        async with asyncio.timeout(30):
            while manager.room_size("all") < clients:
                await asyncio.sleep(0.01)
        sockets = [manager.backend.websockets[c] for c in manager.room_members("all")]
        encode = msgspec.json.Encoder().encode
        times: dict[str, list[float]] = {"manager": [], "floor": []}
        deadline = time.monotonic() + 120
        for r in range(rounds):
            if time.monotonic() > deadline:
                break
            t = time.perf_counter()
            await manager.broadcast_to_room("all", message)
            times["manager"].append(time.perf_counter() - t)
            t = time.perf_counter()
            event = {"type": "websocket.send", "text": encode(message).decode()}
            for ws in sockets:
                await ws._asgi_send(event)
            times["floor"].append(time.perf_counter() - t)
            async with asyncio.timeout(30):
                while min(received) < 2 * (r + 1):
                    await asyncio.sleep(0.005)
        for ws in conns:
            await ws.close()
        for task in readers:
            task.cancel()
    per = {k: statistics.median(v) / clients * 1e6 for k, v in times.items()}
    per["ratio"] = per["manager"] / per["floor"]
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--size", type=int, default=100)
    args = parser.parse_args()
    result = asyncio.run(run(args.clients, args.rounds, args.size))
    print(
        f"{fp.IMPLEMENTATION}: {args.clients} real clients, {args.size} B payload: "
        f"manager {result['manager']:.2f} us/recipient, floor {result['floor']:.2f} us/recipient, "
        f"ratio {result['ratio']:.2f}x"
    )


if __name__ == "__main__":
    main()

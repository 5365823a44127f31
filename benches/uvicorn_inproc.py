"""The end-to-end servers inside uvicorn's own protocol, without sockets.

``python -m benches.uvicorn_inproc SERVER [--connections N] [--rounds R]``

Each of ``benches/e2e_apps.py``'s echo servers (``falcon``, ``asgi``,
``native``, ``pure``: the labels of ``benches/load_e2e.py``) is driven through
uvicorn's ``websockets-sansio`` protocol object, on uvloop where installed,
with a transport that only counts what is written: N connections complete
the real upgrade handshake, then every round hands each connection one
client frame (``data_received``, as the event loop would after a socket
read) and waits until all N have answered. What this leaves out of the
end-to-end phase are the kernel's share (system calls, scheduling, the
other process) and the load generator; what it keeps are uvicorn's parser
and framing, the event loop, Falcon and this library, per round trip.

It exists for ``benches/icount.py``: run under callgrind its instruction
counts repeat to within a few hundred per round trip from run to run, which
no timing on this shared machine does; the time it prints is only a hint.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.client import ClientProtocol
from websockets.uri import parse_uri

from .load_e2e import ECHO, SERVERS, client_loop

WARMUP = 200  # rounds before the measured ones
SETTLE_TURNS = 100  # loop turns a handshake may take before it counts as failed


class CountingTransport(asyncio.Transport):
    """A transport that hands every write to ``sink`` and is never closing."""

    def __init__(self, sink: Callable[[bytes], None]) -> None:
        super().__init__()
        self.sink = sink
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sink(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        extra = {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}
        return extra.get(name, default)

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0


async def ping_pong(server: str, connections: int, rounds: int) -> float:
    """Seconds per round trip over ``rounds`` measured rounds; raises if any
    connection fails its handshake or an answer is missing (bounded)."""
    from .e2e_apps import APPS

    app_name, _impl = SERVERS[server]
    config = Config(APPS[app_name](), ws="websockets-sansio", lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    loop = asyncio.get_running_loop()
    waiting = [0]
    answered: list[asyncio.Future[None]] = []

    def count(_data: bytes) -> None:
        waiting[0] -= 1
        if not waiting[0] and answered and not answered[-1].done():
            answered[-1].set_result(None)

    protocols = []
    frame = b""
    for _ in range(connections):
        protocol = WebSocketsSansIOProtocol(config, state, {})
        client = ClientProtocol(parse_uri("ws://127.0.0.1:8000/ws/echo"))
        written: list[bytes] = []
        transport = CountingTransport(written.append)
        protocol.connection_made(transport)
        client.send_request(client.connect())
        protocol.data_received(b"".join(client.data_to_send()))
        for _ in range(SETTLE_TURNS):
            if written:
                break
            await asyncio.sleep(0)
        client.receive_data(b"".join(written))
        if client.handshake_exc is not None:
            raise RuntimeError(f"{server}: handshake failed: {client.handshake_exc}")
        client.send_text(ECHO.encode())
        frame = b"".join(client.data_to_send())  # masked once; servers do not care
        transport.sink = count
        protocols.append(protocol)

    async def one_round() -> None:
        waiting[0] = connections
        answered.append(loop.create_future())
        for protocol in protocols:
            protocol.data_received(frame)
        async with asyncio.timeout(10):
            await answered[-1]
        answered.clear()

    for _ in range(WARMUP):
        await one_round()
    start = time.perf_counter()
    for _ in range(rounds):
        await one_round()
    elapsed = time.perf_counter() - start
    # The peers go away: every app sees its disconnect and returns (bounded).
    for protocol in protocols:
        protocol.connection_lost(None)
    if state.tasks:
        _done, pending = await asyncio.wait(set(state.tasks), timeout=10)
        if pending:
            raise RuntimeError(f"{server}: {len(pending)} connections did not end")
    return elapsed / (rounds * connections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("server", choices=list(SERVERS))
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    impl = SERVERS[args.server][1]
    if os.environ.get("FALCON_PACHINKO_IMPL", impl) != impl:
        sys.exit(f"{args.server} runs with FALCON_PACHINKO_IMPL={impl}")
    os.environ["FALCON_PACHINKO_IMPL"] = impl
    with asyncio.Runner(loop_factory=client_loop()) as runner:
        seconds = runner.run(ping_pong(args.server, args.connections, args.rounds))
    print(json.dumps({"server": args.server, "us_per_rtt": seconds * 1e6}))


if __name__ == "__main__":
    main()

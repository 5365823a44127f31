"""A real uvicorn server on a free 127.0.0.1 port, in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


class RunningServer:
    def __init__(
        self, server: uvicorn.Server, port: int, task: asyncio.Task[None] | None = None
    ) -> None:
        self.server = server
        self.port = port
        self.task = task  # the server's serve(): done once it has shut down

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def listening_socket(sndbuf: int | None = None) -> socket.socket:
    """A bound 127.0.0.1 socket on a free port; accepted connections inherit
    its send-buffer size (used to make back-pressure appear quickly).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sndbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def running_server(
    app: Any, *, sock: socket.socket | None = None, **config: Any
) -> AsyncIterator[RunningServer]:
    """Serve ``app`` with uvicorn (lifespan on); stop it, bounded, on exit."""
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on"} | config
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, **options))
    task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn exited during startup")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield RunningServer(server, port, task)
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(10):
                await task
        except TimeoutError:
            task.cancel()

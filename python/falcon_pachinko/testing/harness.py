"""``SimulatorRouterHarness``: a router, an app and simulated connections.

Connections go through the real router code path (route resolution, hooks,
``on_connect``, the receive loop, the connection manager) with a
``WebSocketSimulator`` in place of the ASGI server, so resource tests run in
milliseconds and never hang: every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import falcon.asgi

from ..app import install
from ..hooks import HookContext
from ..manager import WebSocketConnectionManager
from ..router import WebSocketRouter
from .simulator import DEFAULT_TIMEOUT, WebSocketSimulator

__all__ = ["SimulatorConnection", "SimulatorRouterHarness"]


class SimulatorConnection:
    """One simulated client connection served by the harness's router."""

    def __init__(self, ws: WebSocketSimulator, task: asyncio.Task[None], timeout: float) -> None:
        self.ws = ws
        self.task = task
        self.timeout = timeout
        self.resource: Any = None

    @property
    def accepted(self) -> bool:
        return self.ws.accepted

    @property
    def close_code(self) -> int | None:
        """Close code the server used (``None`` while open or if the client closed)."""
        return self.ws.close_code

    async def send_json(self, payload: Any) -> None:
        await self.ws.push_json(payload)

    async def send_text(self, message: str) -> None:
        await self.ws.push_text(message)

    async def send_bytes(self, payload: bytes) -> None:
        await self.ws.push_bytes(payload)

    async def receive(self, timeout: float | None = None) -> str | bytes:
        return await self.ws.next_sent(self.timeout if timeout is None else timeout)

    async def receive_json(self, timeout: float | None = None) -> Any:
        return await self.ws.next_json(self.timeout if timeout is None else timeout)

    async def close(self, code: int = 1000) -> None:
        """Disconnect as the client and wait (bounded) for the server side to finish."""
        await self.ws.disconnect(code)
        await self.wait_closed()

    async def wait_closed(self, timeout: float | None = None) -> None:
        """Wait until the server's connection handling has ended."""
        limit = self.timeout if timeout is None else timeout
        done, _ = await asyncio.wait({self.task}, timeout=limit)
        if not done:
            raise TimeoutError(f"server side did not finish within {limit}s")
        self.task.result()


class SimulatorRouterHarness:
    """An installed ``falcon.asgi.App``, a mounted ``WebSocketRouter``, simulated clients."""

    def __init__(
        self,
        *,
        mount: str = "/",
        router: WebSocketRouter | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **manager_options: Any,
    ) -> None:
        self.app = falcon.asgi.App()
        self.manager: WebSocketConnectionManager = install(self.app, **manager_options)
        self.router = router or WebSocketRouter(simulator_factory=WebSocketSimulator)
        self.mount = "" if mount == "/" else mount.rstrip("/")
        self.router.mount(mount)
        self.timeout = timeout
        self._targets: dict[int, Any] = {}
        self.router.global_hooks.add("before_connect", self._remember_target)

    def _remember_target(self, ctx: HookContext) -> None:
        self._targets[id(ctx.ws)] = ctx.target

    @asynccontextmanager
    async def connect(
        self,
        path: str,
        *,
        initial_inbound: Iterable[Any] | None = None,
        subprotocols: Iterable[str] = (),
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[SimulatorConnection]:
        """Open a simulated connection to ``path`` (below the mount prefix)."""
        factory = self.router.simulator_factory or WebSocketSimulator
        ws: WebSocketSimulator = factory(subprotocols=tuple(subprotocols), timeout=self.timeout)
        for item in initial_inbound or ():
            if isinstance(item, str):
                await ws.push_text(item)
            elif isinstance(item, (bytes, bytearray)):
                await ws.push_bytes(item)
            else:
                await ws.push_json(item)
        full = self.mount + (path if path.startswith("/") else "/" + path)
        req = SimpleNamespace(
            path=full,
            headers=dict(headers or {}),
            context=SimpleNamespace(ws_connection_manager=self.manager),
        )
        task = asyncio.ensure_future(self.router.on_websocket(req, ws))
        conn = SimulatorConnection(ws, task, self.timeout)
        try:
            deadline = asyncio.get_running_loop().time() + self.timeout
            while not (ws.accepted or ws.closed or task.done()):
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"connection to {full!r} neither accepted nor closed")
                await asyncio.sleep(0.001)
            if task.done() and task.exception() is not None:
                task.result()
            conn.resource = self._targets.pop(id(ws), None)
            yield conn
        finally:
            if not task.done():
                await ws.disconnect(1000)
                done, _ = await asyncio.wait({task}, timeout=self.timeout)
                if not done:
                    task.cancel()

"""``SimulatorRouterHarness``: a router, an app and simulated connections.

Connections go through the real router code path (route resolution, hooks,
``on_connect``, the receive loop, the connection manager) with a
``WebSocketSimulator`` in place of the ASGI server, so resource tests run in
milliseconds and never hang: every wait is bounded.

Unlike the published harness, whose router only does the handshake, the
connection is served to its end: frames pushed by the test reach the
resource's handlers. The simulator is handed to the router as the socket
itself, so ``SimulatorConnection.websocket`` and ``.simulator`` are the same
object (the published harness kept a separate stub mirroring it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from types import SimpleNamespace
from typing import Any

import falcon.asgi

from ..app import connection_manager, install
from ..hooks import HookContext
from ..manager import WebSocketConnectionManager
from ..router import WebSocketRouter
from .simulator import DEFAULT_TIMEOUT, FrameKind, WebSocketSimulator, decode_json

__all__ = ["SimulatorConnection", "SimulatorRouterHarness"]

_KINDS = frozenset({"text", "bytes", "json"})


class SimulatorConnection:
    """One simulated client connection served by the harness's router.

    ``push_*`` (published) and ``send_*`` queue frames from the client;
    ``pop_sent*`` take what the application sent without waiting,
    ``receive*`` wait for it (bounded).
    """

    def __init__(
        self,
        *,
        path: str,
        router: WebSocketRouter,
        simulator: WebSocketSimulator,
        request: Any,
        task: asyncio.Task[None],
        timeout: float,
    ) -> None:
        self.path = path
        self.router = router
        self.simulator = simulator
        self.request = request
        self.task = task
        self.timeout = timeout
        self.resource: Any = None

    @property
    def websocket(self) -> WebSocketSimulator:
        """The socket the router served: the simulator itself here."""
        return self.simulator

    @property
    def ws(self) -> WebSocketSimulator:
        return self.simulator

    @property
    def accepted(self) -> bool:
        return self.simulator.accepted

    @property
    def closed(self) -> bool:
        return self.simulator.closed

    @property
    def close_code(self) -> int | None:
        """Close code the server used (``None`` while open or if the client closed)."""
        return self.simulator.close_code

    @property
    def subprotocol(self) -> str | None:
        return self.simulator.subprotocol

    @property
    def sent_messages(self) -> list[str | bytes]:
        """A copy of every frame the application sent so far."""
        return list(self.simulator.sent_messages)

    def pop_sent(self) -> str | bytes:
        """The oldest frame not taken yet (``LookupError`` when there is none)."""
        return self.simulator.pop_sent()

    def pop_sent_json(self, payload_type: Any = None) -> Any:
        """``pop_sent()`` decoded as JSON, into ``payload_type`` when given."""
        return decode_json(self.pop_sent(), payload_type)

    async def push_json(self, payload: Any) -> None:
        await self.simulator.push_json(payload)

    async def push_text(self, message: str) -> None:
        await self.simulator.push_text(message)

    async def push_bytes(self, payload: bytes | bytearray | memoryview) -> None:
        await self.simulator.push_bytes(payload)

    send_json = push_json
    send_text = push_text
    send_bytes = push_bytes

    async def receive(self, timeout: float | None = None) -> str | bytes:
        return await self.simulator.next_sent(self.timeout if timeout is None else timeout)

    async def receive_json(self, payload_type: Any = None, *, timeout: float | None = None) -> Any:
        """Wait (bounded) for the next frame the application sends, as JSON."""
        return decode_json(await self.receive(timeout), payload_type)

    async def close(self, code: int = 1000) -> None:
        """Disconnect as the client and wait (bounded) for the server side to finish."""
        await self.simulator.disconnect(code)
        await self.wait_closed()

    async def wait_closed(self, timeout: float | None = None) -> None:
        """Wait until the server's connection handling has ended."""
        limit = self.timeout if timeout is None else timeout
        done, _ = await asyncio.wait({self.task}, timeout=limit)
        if not done:
            raise TimeoutError(f"server side did not finish within {limit}s")
        self.task.result()


def _normalize_mount(prefix: str) -> str:
    if not isinstance(prefix, str):
        raise TypeError("mount prefix must be a str")
    if not prefix.startswith("/"):
        prefix = "/" + prefix
    return prefix.rstrip("/") or "/"


class SimulatorRouterHarness:
    """An installed app, a mounted ``WebSocketRouter``, simulated clients.

    Parameters
    ----------
    mount:
        Prefix the router is mounted at (``"/"`` by default).
    router:
        The application's own router; a fresh one when omitted. A router the
        application already mounted keeps its prefix.
    app:
        The application (installed here if it is not yet); a fresh
        ``falcon.asgi.App`` when omitted.
    timeout:
        Bound of every wait, in seconds.
    manager_options:
        Passed to ``install`` (``outbox_size``, ``send_timeout`` ...).
    """

    def __init__(
        self,
        *,
        mount: str = "/",
        router: WebSocketRouter | None = None,
        app: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        **manager_options: Any,
    ) -> None:
        self.app = app if app is not None else falcon.asgi.App()
        install(self.app, **manager_options)
        self.router = router if router is not None else WebSocketRouter()
        self.timeout = timeout
        self._prefix: str | None = None
        self._targets: dict[int, Any] = {}
        self.router.global_hooks.add("before_connect", self._remember_target)
        self.mount(mount)

    @property
    def manager(self) -> WebSocketConnectionManager:
        """The app's connection manager now (reassigning it on the app is seen)."""
        return connection_manager(self.app)

    @property
    def mount_prefix(self) -> str:
        return self._prefix or "/"

    def mount(self, prefix: str) -> None:
        """Mount the router at ``prefix`` and serve it on the app.

        Mounting again at the same prefix is a no-op; at another one,
        ``RuntimeError`` (a router has one prefix). A router the application
        mounted itself is adopted with its prefix.
        """
        normalized = _normalize_mount(prefix)
        if self._prefix is not None:
            if normalized != self._prefix:
                raise RuntimeError(f"router already mounted at {self._prefix!r}")
            return
        try:
            self.router.mount("" if normalized == "/" else normalized, app=self.app)
        except RuntimeError:
            # The application's own router, already mounted: use its prefix.
            self._prefix = _normalize_mount(self.router.mount_prefix)
            return
        self._prefix = normalized

    def _remember_target(self, ctx: HookContext) -> None:
        self._targets[id(ctx.ws)] = ctx.target

    def _compose_path(self, path: str) -> str:
        prefix = self.mount_prefix
        if not path.startswith("/"):
            path = "/" + path
        if prefix in ("/", path) or path.startswith(prefix + "/"):
            return path
        return prefix + path

    @staticmethod
    async def _seed(ws: WebSocketSimulator, items: Iterable[Any]) -> None:
        for item in items:
            if isinstance(item, tuple) and len(item) == 2 and item[1] in _KINDS:
                payload, kind = item
                await ws.push_message(payload, kind=kind)
            elif isinstance(item, str):
                await ws.push_text(item)
            elif isinstance(item, (bytes, bytearray)):
                await ws.push_bytes(item)
            else:
                await ws.push_json(item)

    @asynccontextmanager
    async def connect(
        self,
        path: str,
        *,
        initial_inbound: Iterable[tuple[Any, FrameKind] | Any] | None = None,
        subprotocols: Iterable[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[SimulatorConnection]:
        """Open a simulated connection to ``path`` (below the mount prefix).

        ``initial_inbound`` frames, ``(payload, kind)`` tuples with ``kind``
        one of ``"json"``, ``"text"``, ``"bytes"``, are queued before the
        handshake. On exit a connection still open is closed with 1000 and
        the server side is awaited (bounded).
        """
        ws = WebSocketSimulator(
            subprotocols=None if subprotocols is None else tuple(subprotocols),
            timeout=self.timeout,
        )
        await self._seed(ws, initial_inbound or ())
        full = self._compose_path(path)
        req = SimpleNamespace(
            path=full,
            path_template=self.mount_prefix,
            headers=dict(headers or {}),
            context=SimpleNamespace(ws_connection_manager=self.manager),
        )
        task = asyncio.ensure_future(self.router.on_websocket(req, ws))
        conn = SimulatorConnection(
            path=full,
            router=self.router,
            simulator=ws,
            request=req,
            task=task,
            timeout=self.timeout,
        )
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout
            while not (ws.accepted or ws.closed or task.done()):
                if loop.time() > deadline:
                    raise TimeoutError(f"connection to {full!r} neither accepted nor closed")
                await asyncio.sleep(0.001)
            if task.done() and task.exception() is not None:
                task.result()
            conn.resource = self._targets.pop(id(ws), None)
            yield conn
        finally:
            self._targets.pop(id(ws), None)
            if not ws.closed:
                await ws.close(1000)
            if not task.done():
                done, _ = await asyncio.wait({task}, timeout=self.timeout)
                if not done:
                    task.cancel()
                    with suppress(asyncio.CancelledError, Exception):
                        await task

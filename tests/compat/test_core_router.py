"""The router as published code drives it (DESIGN §6.3): handshake-only mode
for stub sockets and ``simulator_factory``, the ``receive_loop`` override,
``ws.close()`` on failures before accept, the mount-prefix check, the
published ``WebSocketLike`` protocol, and a receive that returns no frame.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import falcon
import pytest

from falcon_pachinko import WebSocketLike, WebSocketResource, WebSocketRouter, handles_message
from falcon_pachinko.testing import WebSocketSimulator


class StubSocket:
    """A socket written against the published protocol: four methods."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def accept(self, subprotocol: str | None = None) -> None:
        self.calls.append(("accept", () if subprotocol is None else (subprotocol,)))

    async def close(self, *args: Any) -> None:
        self.calls.append(("close", args))

    async def send_media(self, data: object) -> None:
        self.calls.append(("send_media", (data,)))

    async def receive_media(self) -> object:
        raise AssertionError("the router must not read from a handshake-only socket")


def request(path: str, **extra: Any) -> Any:
    return SimpleNamespace(path=path, context=SimpleNamespace(ws_connection_manager=None), **extra)


class Chat(WebSocketResource):
    connects: list[dict[str, Any]] = []
    disconnects: list[int] = []

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        self.connects.append(params)
        return params.get("room") != "closed"

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        self.disconnects.append(close_code)

    @handles_message("say")
    async def say(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"echo": payload})


@pytest.fixture(autouse=True)
def _reset() -> None:
    Chat.connects.clear()
    Chat.disconnects.clear()


def test_published_four_method_socket_is_websocket_like() -> None:
    assert isinstance(StubSocket(), WebSocketLike)
    assert isinstance(WebSocketSimulator(), WebSocketLike)


async def test_stub_socket_gets_the_handshake_only() -> None:
    router = WebSocketRouter()
    router.add_route("/rooms/{room}", Chat)
    accepted, rejected = StubSocket(), StubSocket()
    async with asyncio.timeout(2):
        await router.on_websocket(request("/rooms/lobby"), accepted)
        await router.on_websocket(request("/rooms/closed"), rejected)
    assert accepted.calls == [("accept", ())]
    assert [name for name, _ in rejected.calls] == ["close"]
    assert Chat.connects == [{"room": "lobby"}, {"room": "closed"}]
    assert Chat.disconnects == []  # no loop ran, so there is no end to report


async def test_simulator_factory_supplies_the_socket() -> None:
    made: list[tuple[Any, Any, WebSocketSimulator]] = []

    async def factory(req: Any, ws: Any) -> WebSocketSimulator:
        sim = WebSocketSimulator()
        made.append((req, ws, sim))
        return sim

    router = WebSocketRouter(simulator_factory=factory)
    router.add_route("/rooms/{room}", Chat)
    req, original = request("/rooms/lobby"), StubSocket()
    async with asyncio.timeout(2):
        await router.on_websocket(req, original)  # returns: handshake only
    ((got_req, got_ws, sim),) = made
    assert got_req is req and got_ws is original
    assert sim.accepted and not sim.closed and original.calls == []


async def test_receive_loop_true_serves_a_factory_socket_to_its_end() -> None:
    sims: list[WebSocketSimulator] = []

    def factory(req: Any, ws: Any) -> WebSocketSimulator:  # a plain callable works too
        sims.append(WebSocketSimulator())
        return sims[-1]

    router = WebSocketRouter(simulator_factory=factory, receive_loop=True)
    router.add_route("/rooms/{room}", Chat)
    task = asyncio.ensure_future(router.on_websocket(request("/rooms/lobby"), StubSocket()))
    async with asyncio.timeout(2):
        while not sims or not sims[0].accepted:
            await asyncio.sleep(0.001)
        await sims[0].push_json({"type": "say", "payload": "hi"})
        assert await sims[0].next_json() == {"echo": "hi"}
        await sims[0].disconnect(1000)
        await task
    assert Chat.disconnects == [1000]


async def test_receive_loop_false_stops_after_the_handshake() -> None:
    router = WebSocketRouter(receive_loop=False)
    router.add_route("/rooms/{room}", Chat)
    sim = WebSocketSimulator()
    async with asyncio.timeout(2):
        await router.on_websocket(request("/rooms/lobby"), sim)
    assert sim.accepted and not sim.closed


def test_receive_loop_must_be_a_bool_or_none() -> None:
    with pytest.raises(TypeError, match="receive_loop"):
        WebSocketRouter(receive_loop="yes")  # type: ignore[arg-type]


async def test_on_connect_raising_closes_with_no_code() -> None:
    class Broken(WebSocketResource):
        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            raise PermissionError("denied")

    router = WebSocketRouter()
    router.add_route("/b", Broken)
    ws = StubSocket()
    with pytest.raises(PermissionError):
        await router.on_websocket(request("/b"), ws)
    assert ws.calls == [("close", ())]


class Exploding(WebSocketResource):
    def __init__(self) -> None:
        raise RuntimeError("constructor failed")


def failing_factory() -> WebSocketResource:
    raise LookupError("factory failed")


@pytest.mark.parametrize(
    ("resource", "error"), [(Exploding, RuntimeError), (failing_factory, LookupError)]
)
async def test_a_raising_factory_or_constructor_closes_once_and_reraises(
    resource: Any, error: type[Exception]
) -> None:
    router = WebSocketRouter()
    router.add_route("/x", resource)
    ws = StubSocket()
    with pytest.raises(error):
        await router.on_websocket(request("/x"), ws)
    assert ws.calls == [("close", ())]


async def test_mounted_router_refuses_a_request_for_another_prefix() -> None:
    router = WebSocketRouter()
    router.add_route("/chat", Chat)
    router.mount("/ws")
    ws = StubSocket()
    with pytest.raises(falcon.HTTPNotFound):
        await router.on_websocket(request("/ws/chat", path_template="/other"), ws)
    assert Chat.connects == []
    await router.on_websocket(request("/ws/chat", path_template="/ws"), ws)
    assert Chat.connects == [{}]


class NoneReceiver(StubSocket):
    """A stub whose frame receiver has nothing to give: it returns ``None``."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def receive_text(self) -> Any:
        self.reads += 1
        await asyncio.sleep(0)
        if self.reads > 1000:  # the old loop spun on None: fail, do not hang
            raise RuntimeError("receive loop kept spinning on None")
        return None


async def test_a_receive_returning_none_ends_the_connection() -> None:
    router = WebSocketRouter()
    router.add_route("/rooms/{room}", Chat)
    ws = NoneReceiver()
    async with asyncio.timeout(2):
        await router.on_websocket(request("/rooms/lobby"), ws)
    assert ws.reads == 1
    assert Chat.disconnects == [1000]


class VanishingPeer(StubSocket):
    """The peer reset during ``on_connect``: the server's accept fails."""

    async def receive_text(self) -> str:
        raise AssertionError("never reached: accept failed")

    async def accept(self, subprotocol: str | None = None) -> None:
        raise ConnectionResetError("peer reset")


async def test_accept_failing_removes_the_registration_and_runs_on_disconnect() -> None:
    from falcon_pachinko import WebSocketConnectionManager

    class Member(Chat):
        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            await self.join_room("lobby")
            await asyncio.sleep(0)  # an auth lookup
            return True

    manager = WebSocketConnectionManager()
    router = WebSocketRouter()
    router.add_route("/m", Member)
    req = SimpleNamespace(path="/m", context=SimpleNamespace(ws_connection_manager=manager))
    async with asyncio.timeout(2):
        await router.on_websocket(req, VanishingPeer())
    assert manager.room_size("lobby") == 0
    assert manager.stats()["connections"] == 0
    assert Chat.disconnects == [1006]

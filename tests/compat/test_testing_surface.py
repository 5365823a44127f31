"""The published testing surface: the ``websocket_simulator`` fixture, the
simulator's methods, the harness and its connections, the client's trace.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import msgspec
import pytest

import falcon_pachinko as fp
from falcon_pachinko.testing import (
    SimulatorConnection,
    SimulatorRouterHarness,
    TraceEvent,
    WebSocketSimulator,
    WebSocketTestClient,
)
from tests.support.server import running_server


class EchoResource(fp.WebSocketResource):
    """Published fixture test: reads in ``on_connect``, answers, rejects."""

    instances: ClassVar[list[EchoResource]] = []

    def __init__(self) -> None:
        self.received: list[Any] = []
        EchoResource.instances.append(self)

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        payload = await ws.receive_json(dict)
        self.received.append(payload)
        await ws.send_json({"type": "ack", "payload": payload})
        return False


class GreeterResource(fp.WebSocketResource):
    closes: ClassVar[list[int]] = []

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        await ws.send_text("welcome aboard")  # before accept: recorded
        return True

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        GreeterResource.closes.append(close_code)

    @fp.handles_message("echo")
    async def echo(self, ws: Any, payload: dict[str, Any]) -> None:
        await ws.send_media({"type": "echo", "payload": payload})


class AcceptingGreeter(GreeterResource):
    """For a real Falcon socket, which refuses sends before ``accept()``."""

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        await ws.accept()
        await ws.send_text("welcome aboard")
        return True


class ChattyResource(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        await ws.accept(subprotocol="chat")
        await ws.close(code=1001)
        return False


async def test_fixture_yields_a_harness_and_routes_connections(
    websocket_simulator: SimulatorRouterHarness,
) -> None:
    assert isinstance(websocket_simulator, SimulatorRouterHarness)
    EchoResource.instances.clear()
    websocket_simulator.router.add_route("/echo", EchoResource)
    async with websocket_simulator.connect(
        "/echo", initial_inbound=[({"type": "ping"}, "json")]
    ) as connection:
        assert isinstance(connection, SimulatorConnection)
        assert EchoResource.instances[-1].received == [{"type": "ping"}]
        assert connection.closed is True
        assert connection.accepted is False
        assert connection.pop_sent_json() == {"type": "ack", "payload": {"type": "ping"}}
        assert connection.websocket.closed is True
        assert connection.path == "/echo"
        assert connection.router is websocket_simulator.router
        assert connection.request.path == "/echo"


async def test_simulator_harness_alias(simulator_harness: SimulatorRouterHarness) -> None:
    assert isinstance(simulator_harness, SimulatorRouterHarness)


async def test_open_connection_is_closed_with_1000_on_exit(
    websocket_simulator: SimulatorRouterHarness,
) -> None:
    GreeterResource.closes.clear()
    websocket_simulator.router.add_route("/greeter", GreeterResource)
    async with websocket_simulator.connect("/greeter") as connection:
        assert connection.accepted is True
        assert connection.closed is False
        assert connection.subprotocol is None
        assert connection.close_code is None
        assert connection.pop_sent() == "welcome aboard"
    assert connection.closed is True
    assert connection.close_code == 1000
    assert connection.websocket.close_code == 1000
    assert GreeterResource.closes == [1000]


async def test_subprotocol_and_close_code_are_mirrored(
    websocket_simulator: SimulatorRouterHarness,
) -> None:
    websocket_simulator.router.add_route("/chat", ChattyResource)
    async with websocket_simulator.connect("/chat") as connection:
        assert connection.accepted is True
        assert connection.subprotocol == "chat"
        assert connection.close_code == 1001
        assert connection.websocket.subprotocol == "chat"
    assert connection.close_code == 1001


async def test_initial_inbound_tuples_are_dispatched(
    websocket_simulator: SimulatorRouterHarness,
) -> None:
    websocket_simulator.router.add_route("/greeter", GreeterResource)
    frames = [
        ({"type": "echo", "payload": {"n": 1}}, "json"),
        ('{"type": "echo", "payload": {"n": 2}}', "text"),
        ({"type": "echo", "payload": {"n": 3}}, "json"),
        (b"\x01raw", "bytes"),
    ]
    async with websocket_simulator.connect("/greeter", initial_inbound=frames) as conn:
        assert conn.pop_sent() == "welcome aboard"
        for n in (1, 2, 3):
            assert await conn.receive_json(timeout=1.0) == {"type": "echo", "payload": {"n": n}}
        await conn.push_json({"type": "echo", "payload": {"n": 4}})
        for _ in range(200):  # bounded: the loop answers within a few event-loop turns
            if len(conn.sent_messages) == 5:
                break
            await asyncio.sleep(0.005)
        assert conn.pop_sent_json() == {"type": "echo", "payload": {"n": 4}}
        assert conn.sent_messages[0] == "welcome aboard"
        assert b"\x01raw" in conn.simulator.received_messages  # the binary frame reached the app


async def test_harness_mount_is_a_method() -> None:
    harness = SimulatorRouterHarness()
    harness.mount("/")  # same prefix: no-op
    with pytest.raises(RuntimeError, match="already mounted"):
        harness.mount("/ws")
    prefixed = SimulatorRouterHarness(mount="/ws")
    prefixed.router.add_route("/greeter", GreeterResource)
    for path in ("/greeter", "/ws/greeter"):
        async with prefixed.connect(path) as conn:
            assert conn.accepted and conn.path == "/ws/greeter"


async def test_harness_drives_an_applications_own_router() -> None:
    import falcon.asgi

    app = falcon.asgi.App()
    manager = fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/greeter", GreeterResource)
    router.mount("/api", app=app)
    harness = SimulatorRouterHarness(app=app, router=router)
    assert harness.manager is manager
    async with harness.connect("/api/greeter") as conn:
        assert conn.accepted
        assert manager.stats()["connections"] == 1


async def test_simulator_methods() -> None:
    sim = WebSocketSimulator()
    await sim.send_media({"type": "pong"})  # before accept: lenient by default
    await sim.send_json({"type": "json"})
    await sim.send_text("t")
    await sim.send_bytes(b"b")
    assert sim.pending_outbound() == 4
    assert sim.sent_messages == ['{"type":"pong"}', b'{"type":"json"}', "t", b"b"]
    assert sim.pop_sent() == '{"type":"pong"}'
    assert sim.pending_outbound() == 3

    await sim.push_message({"type": "ping"}, kind="json")
    await sim.push_message("hello", kind="text")
    await sim.push_message(b"\x00", kind="bytes")
    await sim.push_json([1])
    assert sim.pending_inbound() == 4
    assert await sim.receive_json() == {"type": "ping"}
    assert await sim.receive_text() == "hello"
    assert await sim.receive_bytes() == b"\x00"
    assert await sim.receive_media() == "[1]"
    assert sim.received_messages == ['{"type":"ping"}', "hello", b"\x00", "[1]"]
    with pytest.raises(ValueError, match="Unsupported frame kind"):
        await sim.push_message("x", kind="yaml")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await sim.push_message(b"x", kind="text")

    class Ping(msgspec.Struct):
        type: str

    await sim.push_json({"type": "ping"})
    assert await sim.receive_json(Ping) == Ping("ping")

    await sim.accept(subprotocol="anything")  # offer unknown: not validated
    assert sim.subprotocol == "anything"
    await sim.close(1011)
    assert sim.closed and sim.close_code == 1011
    assert sim.pending_inbound() == 0


async def test_strict_simulator_enforces_falcons_rules() -> None:
    sim = WebSocketSimulator(strict=True)
    with pytest.raises(RuntimeError, match="not yet been accepted"):
        await sim.send_media({"a": 1})
    offered = WebSocketSimulator(subprotocols=("wamp",))
    with pytest.raises(ValueError, match="subprotocol"):
        await offered.accept(subprotocol="chat")
    await offered.accept(subprotocol="wamp")
    assert offered.subprotocol == "wamp"


def test_insecure_url_message() -> None:
    with pytest.raises(ValueError) as err:
        WebSocketTestClient("ws://127.0.0.1:1")
    assert str(err.value).startswith("Insecure websocket URLs require allow_insecure=True")


def test_trace_event_fields() -> None:
    event = TraceEvent(0, "send", "json", {"a": 1})
    assert (event.index, event.direction, event.kind, event.payload) == (
        0,
        "send",
        "json",
        {"a": 1},
    )
    assert isinstance(event.timestamp, float)
    assert (
        TraceEvent(index=1, direction="close", kind="close", payload=None, timestamp=2.0).timestamp
        == 2.0
    )


async def test_trace_is_numbered_from_zero_without_open_and_with_close() -> None:
    harness = SimulatorRouterHarness()
    harness.router.add_route("/greeter", AcceptingGreeter)

    class Reply(msgspec.Struct):
        type: str
        payload: dict[str, int]

    async with running_server(harness.app) as srv:
        client = WebSocketTestClient(srv.ws_url, allow_insecure=True, capture_trace=True)
        async with client.connect("/greeter") as session:
            assert await session.receive_text() == "welcome aboard"
            await session.send_json({"type": "echo", "payload": {"n": 1}})
            reply = await session.receive_json(Reply, timeout=2.0)
            assert reply == Reply("echo", {"n": 1})
            await session.close()
    trace = session.trace
    assert [e.index for e in trace] == [0, 1, 2, 3]
    assert [(e.direction, e.kind) for e in trace] == [
        ("receive", "text"),
        ("send", "json"),
        ("receive", "json"),
        ("close", "close"),
    ]
    assert trace[1].payload == {"type": "echo", "payload": {"n": 1}}
    assert trace[3].payload == {"code": 1000, "reason": ""}

"""The testing utilities, tested on themselves (§5.10)."""

from __future__ import annotations

from typing import Any

import pytest

import falcon_pachinko as fp
from falcon_pachinko.testing import (
    SimulatorRouterHarness,
    TraceEvent,
    WebSocketSimulator,
    WebSocketTestClient,
)

from ..support.server import running_server


async def test_simulator_queues_and_bounded_waits() -> None:
    ws = WebSocketSimulator(timeout=0.05, strict=True)
    with pytest.raises(RuntimeError, match="not yet been accepted"):
        await ws.send_text("early")
    async with ws.connected() as live:
        assert live.ready
        await ws.send_text("a")
        await ws.send_data(b"b")
        await ws.send_media({"c": 1})
        assert ws.sent_messages == ["a", b"b", '{"c":1}']
        assert ws.pop_sent() == "a"
        assert await ws.next_sent() == b"b"
        assert await ws.next_json() == {"c": 1}
        with pytest.raises(LookupError):
            ws.pop_sent()
        with pytest.raises(TimeoutError, match=r"no frame was sent within 0\.05s"):
            await ws.next_sent()
        await ws.push_json({"type": "x"})
        await ws.push_bytes(b"raw")
        assert await ws.receive() == '{"type":"x"}'
        assert await ws.receive() == b"raw"
    assert ws.close_code == 1000 and ws.closed


async def test_simulator_subprotocol_must_be_offered() -> None:
    ws = WebSocketSimulator(subprotocols=("a",))
    with pytest.raises(ValueError, match="subprotocol"):
        await ws.accept("b")
    await ws.accept("a")
    assert ws.accepted_subprotocol == "a"


class Greeter(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, name: str) -> bool:
        self.name = name
        return name != "mallory"

    async def on_hello(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"hello": self.name})


async def test_harness_connects_through_the_router() -> None:
    harness = SimulatorRouterHarness(mount="/ws")
    harness.router.add_route("/greet/{name}", Greeter)
    async with harness.connect("/greet/ana", initial_inbound=[{"type": "hello"}]) as conn:
        assert conn.accepted
        assert await conn.receive_json() == {"hello": "ana"}
        assert isinstance(conn.resource, Greeter)
        assert harness.manager.stats()["connections"] == 1
    assert harness.manager.stats()["connections"] == 0
    async with harness.connect("/greet/mallory") as conn:
        assert not conn.accepted and conn.close_code == 1000


async def test_websocket_test_client_against_a_real_server() -> None:
    with pytest.raises(ValueError, match="require allow_insecure=True"):
        WebSocketTestClient("ws://127.0.0.1:1")
    app = fp.SimulatorRouterHarness().app  # an installed falcon.asgi.App
    router = fp.WebSocketRouter()
    router.add_route("/greet/{name}", Greeter)
    router.mount("/ws", app=app)
    async with running_server(app) as srv:
        client = WebSocketTestClient(
            srv.ws_url, allow_insecure=True, capture_trace=True, receive_timeout=0.2
        )
        async with client.connect("/ws/greet/bo") as session:
            await session.send_json({"type": "hello"})
            assert await session.receive_json() == {"hello": "bo"}
            with pytest.raises(TimeoutError, match="no frame received"):
                await session.receive()
            await session.close()
        directions = [e.direction for e in session.trace]
        assert directions == ["send", "receive", "close"]
        assert all(isinstance(e, TraceEvent) for e in session.trace)
        assert session.trace[1].payload == {"hello": "bo"}


def test_pytest_plugin_provides_fixtures(pytester: pytest.Pytester) -> None:
    """The entry point is installed with the package: no conftest needed."""
    pytester.makepyfile(
        """
        import asyncio

        def test_fixtures(websocket_simulator, simulator_harness):
            assert type(websocket_simulator).__name__ == "SimulatorRouterHarness"
            assert simulator_harness.manager is not None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)

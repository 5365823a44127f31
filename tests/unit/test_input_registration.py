"""Mistakes fail at registration, naming the class, method or parameter (§6.2)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from falcon_pachinko import WebSocketResource, WebSocketRouter, handles_message
from falcon_pachinko.exceptions import HandlerNotAsyncError, HandlerSignatureError
from falcon_pachinko.testing import SimulatorRouterHarness


def test_sync_convention_handler_fails_at_class_creation() -> None:
    with pytest.raises(HandlerNotAsyncError, match=r"Pinger\.on_ping.*async def"):

        class Pinger(WebSocketResource):
            def on_ping(self, ws: Any, payload: Any) -> None: ...

    class Lifecycle(WebSocketResource):  # lifecycle names are not tag handlers
        def on_websocket(self, req: Any, ws: Any) -> None: ...

    assert Lifecycle.handlers == {}


def test_convention_handler_without_a_payload_parameter_fails() -> None:
    with pytest.raises(HandlerSignatureError, match=r"Short\.on_ping"):

        class Short(WebSocketResource):
            async def on_ping(self, ws: Any) -> None: ...


def test_handler_with_an_extra_required_parameter_fails() -> None:
    with pytest.raises(HandlerSignatureError, match=r"Extra\.handler.*'room' has no default"):

        class Extra(WebSocketResource):
            @handles_message("x")
            async def handler(self, ws: Any, payload: Any, room: str) -> None: ...

    class Fine(WebSocketResource):
        @handles_message("x")
        async def handler(self, ws: Any, payload: Any, room: str = "", *a: Any) -> None: ...

    assert Fine.handlers["x"].payload_param == "payload"


def test_undecodable_payload_annotation_fails_at_class_creation() -> None:
    # msgspec refuses unions of several array-like types when the decoder is built
    with pytest.raises(HandlerSignatureError, match=r"Odd\.on_thing.*'payload'.*tuple"):

        class Odd(WebSocketResource):
            async def on_thing(self, ws: Any, payload: list[int] | tuple[int]) -> None: ...


# -- routes ------------------------------------------------------------------------


class RoomOnly(WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        return True


class TakesAll(WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        return True


def test_route_parameter_on_connect_cannot_receive() -> None:
    router = WebSocketRouter()
    with pytest.raises(TypeError, match=r"RoomOnly\.on_connect.*'user'"):
        router.add_route("/rooms/{room}/{user}", RoomOnly)
    with pytest.raises(TypeError, match=r"RoomOnly\.on_connect.*requires.*'room'"):
        router.add_route("/lobby", RoomOnly)
    router.add_route("/rooms/{room}", RoomOnly)
    router.add_route("/any/{a}/{b:int}", TakesAll)
    router.add_route("/plain/{x}", lambda: RoomOnly())  # noqa: PLW0108 - a factory: not inspected
    router.add_route("/a/{x}/{y}", WebSocketResource)  # the default takes **params


@pytest.mark.parametrize("path", ["/chat/{room", "/chat/room}", "/chat/{a{b}}", "/{a}}"])
def test_unbalanced_braces_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="Unbalanced"):
        WebSocketRouter().add_route(path, TakesAll)

    class Parent(WebSocketResource):
        def __init__(self) -> None:
            self.add_subroute(path, TakesAll)

    with pytest.raises(ValueError, match="Unbalanced"):
        Parent()


# -- on_connect returning None ----------------------------------------------------------


class Forgetful(WebSocketResource):
    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        return None  # type: ignore[return-value]  # the mistake under test


async def test_on_connect_returning_none_rejects_and_warns_once_per_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = SimulatorRouterHarness()
    harness.router.add_route("/f", Forgetful)
    with caplog.at_level(logging.WARNING, logger="falcon_pachinko"):
        for _ in range(3):
            async with harness.connect("/f") as conn:
                assert not conn.accepted
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Forgetful.on_connect returned None" in warnings[0].getMessage()
    assert "return True" in warnings[0].getMessage()

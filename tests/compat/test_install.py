"""``install(app)`` as published: duck-typed apps, a reassignable manager,
``add_websocket_route`` path validation, ``create_websocket_resource``.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import falcon.asgi
import pytest
from websockets.asyncio.client import connect

import falcon_pachinko as fp
from falcon_pachinko.backends import InProcessBackend
from falcon_pachinko.websocket import (
    InvalidWebSocketRoutePathError,
    PartialWebSocketInstallError,
    RouteSpec,
    WebSocketConnectionManager,
    WebSocketResourceNotFoundError,
)
from tests.support.server import running_server


class Echo(fp.WebSocketResource):
    def __init__(self, greeting: str = "hi") -> None:
        self.greeting = greeting

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        return True


class PlainApp:
    """An app object that is not Falcon's: only a ``__dict__``."""


class RoutingApp:
    """A duck-typed app that has ``add_route`` but no ``add_middleware``."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, Any]] = []

    def add_route(self, path: str, resource: Any) -> None:
        self.routes.append((path, resource))


class RecordingBackend(InProcessBackend):
    """A user's backend subclass: records what the manager asks of it."""

    def __init__(self) -> None:
        super().__init__()
        self.added: list[str] = []
        self.started = False

    async def start(self) -> None:
        self.started = True
        await super().start()

    async def add_connection(self, conn_id: str, ws: Any) -> None:
        self.added.append(conn_id)
        await super().add_connection(conn_id, ws)


def test_install_on_a_plain_object_with_a_dict() -> None:
    app = PlainApp()
    manager = fp.install(app)
    assert app.ws_connection_manager is manager  # type: ignore[attr-defined]
    assert fp.connection_manager(app) is manager
    assert fp.install(app) is manager  # idempotent
    with pytest.warns(DeprecationWarning):
        app.add_websocket_route("/echo", Echo, greeting="yo")  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        first = app.create_websocket_resource("/echo")  # type: ignore[attr-defined]
        second = app.create_websocket_resource("/echo")  # type: ignore[attr-defined]
        assert isinstance(first, Echo) and first.greeting == "yo"
        assert first is not second
        with pytest.raises(WebSocketResourceNotFoundError, match="/nowhere") as err:
            app.create_websocket_resource("/nowhere")  # type: ignore[attr-defined]
        assert isinstance(err.value, ValueError)


def test_install_uses_add_route_only_when_present() -> None:
    app = RoutingApp()
    fp.install(app)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app.add_websocket_route("/a", Echo)  # type: ignore[attr-defined]
    assert [path for path, _ in app.routes] == ["/a"]


def test_reassigned_manager_is_the_one_returned_on_a_plain_object() -> None:
    app = PlainApp()
    fp.install(app)
    replacement = WebSocketConnectionManager(backend=RecordingBackend())
    app.ws_connection_manager = replacement  # type: ignore[attr-defined]
    assert fp.connection_manager(app) is replacement
    assert fp.install(app) is replacement


@pytest.mark.parametrize(
    "path", ["", "chat", "/with space", " /lead", "/trail ", "/tab\there", "/new\nline", 42]
)
def test_add_websocket_route_validates_the_path(path: Any) -> None:
    app = PlainApp()
    fp.install(app)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(InvalidWebSocketRoutePathError) as err:
            app.add_websocket_route(path, Echo)  # type: ignore[attr-defined]
    assert isinstance(err.value, ValueError)
    assert err.value.path == path


def test_partial_install_is_refused() -> None:
    app = PlainApp()
    app.add_websocket_route = lambda *a: None  # type: ignore[attr-defined]
    with pytest.raises(PartialWebSocketInstallError, match="Partial WebSocket install"):
        fp.install(app)


def test_an_object_that_cannot_hold_attributes_gets_a_clear_error() -> None:
    with pytest.raises(TypeError, match="install"):
        fp.install(object())


def test_route_spec_as_published() -> None:
    spec = RouteSpec(Echo)
    assert (spec.resource_cls, spec.args, spec.kwargs) == (Echo, (), {})
    spec.args = ("x",)  # mutable, as published
    assert RouteSpec(Echo).kwargs is not RouteSpec(Echo).kwargs


async def test_manager_assigned_after_install_serves_connections() -> None:
    """The users guide assigns a manager with a custom backend after install;
    connections must then be registered with that one, and its backend
    started by the lifespan.
    """
    app = falcon.asgi.App()
    original = fp.install(app)
    backend = RecordingBackend()
    replacement = WebSocketConnectionManager(backend=backend)
    app.ws_connection_manager = replacement  # type: ignore[attr-defined]
    assert fp.connection_manager(app) is replacement
    assert isinstance(app, falcon.asgi.App)

    seen: list[str | None] = []

    class Probe(fp.WebSocketResource):
        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            return True

        async def on_ping(self, ws: Any, payload: Any) -> None:
            seen.append(getattr(self, "connection_id", None))
            await ws.send_media({"type": "pong"})

    router = fp.WebSocketRouter()
    router.add_route("/probe", Probe)
    router.mount("/ws", app=app)
    async with running_server(app) as srv:
        assert backend.started
        async with connect(srv.ws_url + "/ws/probe", open_timeout=5) as client:
            await client.send('{"type": "ping"}')
            assert json.loads(await client.recv()) == {"type": "pong"}
    assert backend.added and seen == backend.added
    assert original.stats()["connections"] == 0


async def test_legacy_route_on_falcon_app_serves_connections() -> None:
    app = falcon.asgi.App()
    fp.install(app)

    class Hello(fp.WebSocketResource):
        def __init__(self, word: str) -> None:
            self.word = word

        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            await ws.accept()
            await ws.send_media({"word": self.word, **params})
            return True

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app.add_websocket_route("/hello/{name}", Hello, "hey")  # type: ignore[attr-defined]
    async with (
        running_server(app) as srv,
        connect(srv.ws_url + "/hello/ana", open_timeout=5) as client,
    ):
        assert json.loads(await client.recv()) == {"word": "hey", "name": "ana"}

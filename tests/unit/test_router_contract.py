"""WebSocketRouter registration, mounting, url_for and resolution (§5.2, §5.6)."""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import falcon
import pytest

from falcon_pachinko import (
    ServiceContainer,
    ServiceNotFoundError,
    SimulatorRouterHarness,
    WebSocketResource,
    WebSocketRouter,
)
from falcon_pachinko.testing import WebSocketSimulator


class Echo(WebSocketResource):
    def __init__(self, greeting: str = "hi") -> None:
        self.greeting = greeting

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        self.params = params
        return True

    async def on_echo(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"greeting": self.greeting, "params": self.params, "echo": payload})


def test_non_callable_resource() -> None:
    with pytest.raises(TypeError, match="resource must be callable"):
        WebSocketRouter().add_route("/x", object())  # type: ignore[arg-type]


def test_duplicate_path_and_name() -> None:
    router = WebSocketRouter()
    router.add_route("x", Echo, name="x")
    with pytest.raises(ValueError, match="already registered"):
        router.add_route("/x/", Echo)
    with pytest.raises(ValueError, match="already registered"):
        router.add_route("/y", Echo, name="x")


def test_empty_parameter_name() -> None:
    with pytest.raises(ValueError, match="Empty parameter name"):
        WebSocketRouter().add_route("/rooms/{}", Echo)


def test_stored_factory_is_a_partial() -> None:
    router = WebSocketRouter()
    router.add_route("/x", Echo, args=("hello",), kwargs={})
    (path, factory, _name) = router.routes[0]
    assert path == "/x"
    assert isinstance(factory, functools.partial)
    assert factory().greeting == "hello"


def test_mount_rules() -> None:
    router = WebSocketRouter()
    with pytest.raises(ValueError):
        router.mount("ws")
    router.mount("/ws")
    with pytest.raises(RuntimeError, match="router already mounted"):
        router.mount("/other")
    for ok in ("", "/"):
        WebSocketRouter().mount(ok)


def test_url_for() -> None:
    router = WebSocketRouter()
    router.add_route("/rooms/{room}/items/{item_id:int}", Echo, name="item")
    router.mount("/ws")
    assert router.url_for("item", room="a", item_id=3) == "/rooms/a/items/3"
    with pytest.raises(KeyError, match="no route registered with name"):
        router.url_for("nope")


async def test_no_route_is_http_not_found_with_duck_typed_request() -> None:
    router = WebSocketRouter()
    router.add_route("/a", Echo)
    ws = WebSocketSimulator()
    with pytest.raises(falcon.HTTPNotFound):
        await router.on_websocket(SimpleNamespace(path="/b"), ws)


async def test_direct_call_with_duck_typed_request_serves() -> None:
    """Only ``path`` (and optionally ``path_template``) is needed on ``req``."""
    router = WebSocketRouter()
    router.add_route("/echo/{n:int}", Echo)
    ws = WebSocketSimulator()
    await ws.push_json({"type": "echo", "payload": 1})
    await ws.disconnect()
    await router.on_websocket(SimpleNamespace(path="/ws/echo/7", path_template="/ws"), ws)
    assert ws.accepted
    assert ws.pop_sent() == '{"greeting":"hi","params":{"n":7},"echo":1}'


async def test_registration_order_wins() -> None:
    class First(Echo):
        pass

    router = WebSocketRouter()
    router.add_route("/things/{name}", First)
    router.add_route("/things/special", Echo)
    harness = SimulatorRouterHarness(router=router)
    async with harness.connect("/things/special") as conn:
        assert type(conn.resource) is First


async def test_converters_reject_non_matching_paths() -> None:
    router = WebSocketRouter()
    router.add_route("/items/{item_id:int}", Echo)
    harness = SimulatorRouterHarness(router=router)
    with pytest.raises(falcon.HTTPNotFound):
        async with harness.connect("/items/abc"):
            pass
    async with harness.connect("/items/42") as conn:
        assert conn.resource.params == {"item_id": 42}


async def test_resource_factory_and_service_container() -> None:
    class NeedsDb(WebSocketResource):
        def __init__(self, db: str, label: str = "x") -> None:
            self.db, self.label = db, label

    container = ServiceContainer()
    container.register("db", "sqlite://")
    container.register("label", "injected")
    router = WebSocketRouter(resource_factory=container.create_resource)
    router.add_route("/db", NeedsDb, kwargs={"label": "explicit"})
    harness = SimulatorRouterHarness(router=router)
    async with harness.connect("/db") as conn:
        assert (conn.resource.db, conn.resource.label) == ("sqlite://", "explicit")
    with pytest.raises(ServiceNotFoundError) as info:
        container.resolve("cache")
    assert isinstance(info.value, LookupError)


class Root(WebSocketResource):
    def __init__(self, tenant: str = "none") -> None:
        self.tenant = tenant
        self.state["root"] = tenant
        self.add_subroute("/projects/{project}", Project, kwargs={"kind": "proj"})

    def get_child_context(self) -> dict[str, Any]:
        return {"tenant": self.tenant}


class Project(WebSocketResource):
    def __init__(self, tenant: str, kind: str) -> None:
        self.tenant, self.kind = tenant, kind
        self.state["project_seen"] = True
        self.add_subroute("/tasks/{task:int}", Task)

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        self.state["project_seen"] = True
        return True

    def get_child_context(self) -> dict[str, Any]:
        return {"path": f"{self.tenant}/{self.kind}", "state": {"fresh": True}}


class Task(WebSocketResource):
    def __init__(self, path: str) -> None:
        self.path = path

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        self.params = params
        return True


async def test_three_levels_of_nesting_with_context_and_state() -> None:
    router = WebSocketRouter()
    router.add_route("/tenants/{tenant_id}", Root, kwargs={"tenant": "acme"})
    harness = SimulatorRouterHarness(router=router)
    async with harness.connect("/tenants/t1/projects/p9/tasks/5") as conn:
        task = conn.resource
        assert type(task) is Task
        assert task.path == "acme/proj"
        assert task.params == {"tenant_id": "t1", "project": "p9", "task": 5}
        assert task.state == {"fresh": True}  # replaced through get_child_context
    async with harness.connect("/tenants/t1/projects/p9") as conn:
        assert type(conn.resource) is Project
        assert conn.resource.state["project_seen"] is True
        # shared down the chain: the child's state is its parent's mapping
        assert conn.resource.state == {"root": "acme", "project_seen": True}
    with pytest.raises(falcon.HTTPNotFound):
        async with harness.connect("/tenants/t1/projects/p9/nothing"):
            pass

"""Every name §6.3 lists importable from its published module path, with the
published meaning where a test can state it.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Any

import msgspec
import pytest

import falcon_pachinko as fp
from falcon_pachinko.exceptions import ServiceNotFoundError, SignatureInspectionError

PUBLISHED = [
    ("falcon_pachinko.router", "ResourceFactory"),
    ("falcon_pachinko.router", "SimulatorFactory"),
    ("falcon_pachinko.router", "compile_uri_template"),
    ("falcon_pachinko.handlers", "Handler"),
    ("falcon_pachinko.handlers", "get_payload_type"),
    ("falcon_pachinko.handlers", "select_payload_param"),
    ("falcon_pachinko.exceptions", "SignatureInspectionError"),
    ("falcon_pachinko.hooks", "HookCallable"),
    ("falcon_pachinko.hooks", "EventType"),
    ("falcon_pachinko.websocket", "PartialWebSocketInstallError"),
    ("falcon_pachinko.websocket", "InvalidWebSocketRoutePathError"),
    ("falcon_pachinko.websocket", "WebSocketResourceNotFoundError"),
    ("falcon_pachinko.websocket", "RouteSpec"),
    ("falcon_pachinko.websocket", "ConnectionBackend"),
    ("falcon_pachinko.websocket", "WebSocketConnectionManager"),
    ("falcon_pachinko.testing", "MissingDependencyError"),
    ("falcon_pachinko.testing", "websocket_simulator"),
]


@pytest.mark.parametrize(("module", "name"), PUBLISHED)
def test_published_name_is_importable(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is not None


def test_websocket_simulator_import_is_the_fixture() -> None:
    from falcon_pachinko.testing import websocket_simulator
    from falcon_pachinko.testing.plugin import websocket_simulator as plugin_fixture

    assert websocket_simulator is plugin_fixture


def test_service_not_found_keeps_the_name() -> None:
    container = fp.ServiceContainer()
    with pytest.raises(ServiceNotFoundError) as err:
        container.resolve("db")
    assert err.value.name == "db"
    assert isinstance(err.value, LookupError)
    assert ServiceNotFoundError("cache").name == "cache"


def test_signature_inspection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from falcon_pachinko import handlers

    err = SignatureInspectionError("Res.handler")
    assert isinstance(err, RuntimeError) and "Res.handler" in str(err)

    async def handler(self: Any, ws: Any, payload: Any) -> None: ...

    def no_signature(obj: Any) -> Any:
        raise ValueError("no signature found")

    monkeypatch.setattr(handlers.inspect, "signature", no_signature)
    with pytest.raises(SignatureInspectionError, match="handler"):
        handlers.get_payload_type(handler)


class Say(msgspec.Struct):
    text: str


def test_handler_helpers_as_published() -> None:
    from falcon_pachinko.exceptions import HandlerNotAsyncError, HandlerSignatureError
    from falcon_pachinko.handlers import get_payload_type, select_payload_param

    async def typed(self: Any, ws: Any, data: Say) -> None: ...
    async def untyped(self: Any, ws: Any, payload) -> None: ...  # type: ignore[no-untyped-def]
    async def too_short(self: Any, ws: Any) -> None: ...
    def not_async(self: Any, ws: Any, payload: Say) -> None: ...

    assert get_payload_type(typed) is Say
    assert get_payload_type(untyped) is None
    assert select_payload_param(inspect.signature(typed), func_name="typed").name == "data"
    with pytest.raises(HandlerSignatureError):
        get_payload_type(too_short)
    with pytest.raises(HandlerNotAsyncError):
        get_payload_type(not_async)


def test_compile_uri_template_as_published() -> None:
    from falcon_pachinko.router import compile_uri_template

    pattern = compile_uri_template("/rooms/{room}/items/{item:int}")
    match = pattern.match("/rooms/lobby/items/7/")
    assert match is not None and match.groupdict() == {"room": "lobby", "item": "7"}
    assert pattern.match("/rooms/lobby/items/7/extra") is None
    with pytest.raises(ValueError, match="Empty parameter name"):
        compile_uri_template("/a/{}")


def test_factory_and_hook_types_have_one_definition() -> None:
    """Issue 11: the router's parameters are annotated with the published
    types themselves (a second private alias of the same callable shape
    drifted from them), and each published name is one object.
    """
    import typing

    from falcon_pachinko import di, hooks, router
    from falcon_pachinko._router_compat import SimulatorFactory

    assert router.ResourceFactory is di.ResourceFactory is fp.ResourceFactory
    assert router.SimulatorFactory is SimulatorFactory
    hints = typing.get_type_hints(router.WebSocketRouter.__init__)
    assert hints["resource_factory"] == di.ResourceFactory | None
    assert hints["simulator_factory"] == router.SimulatorFactory | None
    # (the string annotation: evaluating HookCallable's forward reference
    # to HookContext yields a new, unequal object each time)
    assert hooks.HookCollection.add.__annotations__["hook"] == "HookCallable"
    assert not hasattr(router, "ResourceFactoryFn") and not hasattr(hooks, "Hook")


def test_worker_mark_as_published() -> None:
    """``@worker`` returns the function itself with the published marker set
    (code written for the published API reads ``__pachinko_worker__``; the
    controller does not need it: an undecorated worker starts too).
    """
    from falcon_pachinko.workers import worker

    async def marked() -> None: ...
    async def plain() -> None: ...

    assert worker(marked) is marked
    assert getattr(marked, "__pachinko_worker__", None) is True
    assert not hasattr(plain, "__pachinko_worker__")
    with pytest.raises(TypeError, match="must be an async function"):
        worker(lambda: None)  # type: ignore[arg-type, return-value]


async def test_undecorated_workers_start_too() -> None:
    ran = asyncio.Event()

    async def plain(started: asyncio.Event) -> None:
        started.set()

    controller = fp.WorkerController()
    await controller.start(plain, started=ran)
    async with asyncio.timeout(5):
        await ran.wait()
    await controller.stop()

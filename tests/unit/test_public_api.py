"""The public names of DESIGN §5.1, pinned."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

import falcon_pachinko as fp

ROOT_NAMES = [
    "install",
    "WebSocketRouter",
    "WebSocketResource",
    "handles_message",
    "WebSocketConnectionManager",
    "ConnectionBackend",
    "InProcessBackend",
    "WebSocketLike",
    "HookCollection",
    "HookContext",
    "HookManager",
    "ResourceFactory",
    "ServiceContainer",
    "ServiceNotFoundError",
    "WorkerController",
    "worker",
    "WebSocketSimulator",
    "WebSocketTestClient",
    "SimulatorRouterHarness",
    "SimulatorConnection",
    "TraceEvent",
    "MissingDependencyError",
    "IMPLEMENTATION",
    "lifespan",
]

SUBMODULES = [
    "router",
    "resource",
    "handlers",
    "hooks",
    "di",
    "protocols",
    "websocket",
    "workers",
    "exceptions",
    "testing",
]


@pytest.mark.parametrize("name", ROOT_NAMES)
def test_root_exports(name: str) -> None:
    assert hasattr(fp, name)
    assert name in fp.__all__


@pytest.mark.parametrize("name", SUBMODULES)
def test_submodules_importable(name: str) -> None:
    module = importlib.import_module(f"falcon_pachinko.{name}")
    assert module.__name__ == f"falcon_pachinko.{name}"


def test_websocket_module_names() -> None:
    from falcon_pachinko.websocket import (
        ConnectionBackend,
        InProcessBackend,
        RouteSpec,
        WebSocketConnectionManager,
    )

    assert issubclass(InProcessBackend, ConnectionBackend)
    assert WebSocketConnectionManager is fp.WebSocketConnectionManager
    assert RouteSpec(dict, (1,), {"a": 2}).kwargs == {"a": 2}


def test_exception_bases() -> None:
    from falcon_pachinko import exceptions as ex

    assert issubclass(ex.FrameError, ValueError)
    assert issubclass(ex.HandlerNotAsyncError, TypeError)
    assert issubclass(ex.HandlerSignatureError, TypeError)
    assert issubclass(ex.DuplicateHandlerRegistrationError, RuntimeError)
    assert issubclass(ex.ServiceNotFoundError, LookupError)
    assert issubclass(ex.WebSocketConnectionNotFoundError, KeyError)
    assert issubclass(ex.MissingDependencyError, ImportError)
    err = ex.FrameError("syntax", 7)
    assert (err.kind, err.position) == ("syntax", 7)


async def test_after_connect_hook_can_veto() -> None:
    class Door(fp.WebSocketResource):
        pass

    seen: list[Any] = []

    def veto(ctx: fp.HookContext) -> None:
        seen.append(ctx.result)
        ctx.result = False

    Door.hooks.add("after_connect", veto)
    harness = fp.SimulatorRouterHarness()
    harness.router.add_route("/door", Door)
    async with harness.connect("/door") as conn:
        assert not conn.accepted
    assert seen == [True]

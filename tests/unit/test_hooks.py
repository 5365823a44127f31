"""Hook collections, inheritance and onion order (§5.5)."""

from __future__ import annotations

from typing import Any

import pytest

from falcon_pachinko import (
    HookCollection,
    HookContext,
    SimulatorRouterHarness,
    WebSocketResource,
    WebSocketRouter,
)


def test_unknown_event_and_non_callable() -> None:
    hooks = HookCollection()
    with pytest.raises(ValueError, match="Unsupported hook event"):
        hooks.add("before_lunch", lambda ctx: None)
    with pytest.raises(TypeError, match="hook must be callable"):
        hooks.add("before_connect", 42)  # type: ignore[arg-type]


def test_inherit_sees_parent_hooks_first() -> None:
    def a(ctx: HookContext) -> None: ...
    def b(ctx: HookContext) -> None: ...

    parent = HookCollection({"after_receive": [a]})
    child = HookCollection.inherit(parent)
    child.add("after_receive", b)
    assert list(child.iter("after_receive")) == [a, b]
    assert list(parent.iter("after_receive")) == [a]


order: list[str] = []


def recorder(label: str) -> Any:
    async def hook(ctx: HookContext) -> None:
        order.append(f"{label}:{ctx.event.value}")

    return hook


class Outer(WebSocketResource):
    def __init__(self) -> None:
        self.add_subroute("/inner", Inner)


class Inner(WebSocketResource):
    async def on_ping(self, ws: Any, payload: Any) -> None:
        order.append("handler")

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        order.append(f"on_disconnect:{close_code}")


Outer.hooks.add("before_receive", recorder("outer"))
Outer.hooks.add("after_receive", recorder("outer"))
Inner.hooks.add("before_receive", recorder("inner"))
Inner.hooks.add("after_receive", recorder("inner"))
Inner.hooks.add("before_disconnect", recorder("inner"))


async def test_onion_order_across_global_root_and_target() -> None:
    order.clear()
    router = WebSocketRouter()
    router.global_hooks.add("before_receive", recorder("global"))
    router.global_hooks.add("after_receive", recorder("global"))
    router.add_route("/outer", Outer)
    harness = SimulatorRouterHarness(router=router)
    async with harness.connect("/outer/inner") as conn:
        await conn.send_json({"type": "ping"})
        await conn.close(4000)
    assert order == [
        "global:before_receive",
        "outer:before_receive",
        "inner:before_receive",
        "handler",
        "inner:after_receive",
        "outer:after_receive",
        "global:after_receive",
        "inner:before_disconnect",
        "on_disconnect:4000",
    ]


async def test_raising_before_connect_closes_and_reraises() -> None:
    class Guarded(WebSocketResource):
        pass

    def deny(ctx: HookContext) -> None:
        raise PermissionError("nope")

    router = WebSocketRouter()
    router.global_hooks.add("before_connect", deny)
    router.add_route("/g", Guarded)
    harness = SimulatorRouterHarness(router=router)
    with pytest.raises(PermissionError):
        async with harness.connect("/g"):
            pass


async def test_after_receive_hooks_see_the_error() -> None:
    errors: list[Any] = []

    class Failing(WebSocketResource):
        async def on_boom(self, ws: Any, payload: Any) -> None:
            raise RuntimeError("boom")

    Failing.hooks.add("after_receive", lambda ctx: errors.append(ctx.error))
    router = WebSocketRouter()
    router.add_route("/f", Failing)
    harness = SimulatorRouterHarness(router=router)
    async with harness.connect("/f") as conn:
        await conn.send_json({"type": "boom"})
        await conn.wait_closed()
        assert conn.close_code == 1011
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)

"""Dispatch as published code drives it (DESIGN §6.3, issue 10): user
attributes that shadow library names, receive hooks run by ``dispatch()``
on every resource of a chain, after-connect hooks when ``on_connect``
raises, convention lookups that keep nothing of the client's spelling, and
a payload too deep for the decoder taken as a validation failure.
"""

from __future__ import annotations

from typing import Any

import pytest

from falcon_pachinko import WebSocketResource, WebSocketRouter, handles_message
from falcon_pachinko.hooks import HookCollection, HookContext, HookManager
from falcon_pachinko.testing import SimulatorRouterHarness, WebSocketSimulator

from ..support.raw import dispatcher_sizes


async def _accepted() -> WebSocketSimulator:
    ws = WebSocketSimulator()
    await ws.accept()
    return ws


class Shadowing(WebSocketResource):
    """Uses ``route``, ``fallback`` and ``close`` as its own attribute names."""

    def __init__(self) -> None:
        self.route = "lobby"
        self.fallback: list[str] = []
        self.close = "never"

    async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
        self.route = "room-2"  # also after the handshake has started
        return True

    @handles_message("say")
    async def say(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"route": self.route, "said": payload})

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        self.fallback.append("unhandled")
        await ws.send_media({"unhandled": len(self.fallback)})


async def test_user_attributes_named_like_internals_do_not_break_dispatch() -> None:
    harness = SimulatorRouterHarness()
    harness.router.add_route("/s", Shadowing)
    async with harness.connect("/s") as conn:
        await conn.push_json({"type": "nobody-handles-this"})
        assert await conn.receive_json() == {"unhandled": 1}
        await conn.push_text("not json")
        assert await conn.receive_json() == {"unhandled": 2}
        await conn.push_json({"type": "say", "payload": "hi"})
        assert await conn.receive_json() == {"route": "room-2", "said": "hi"}
        assert not conn.closed


async def test_dispatch_runs_receive_hooks_without_a_router() -> None:
    seen: list[str] = []

    class Hooked(WebSocketResource):
        @handles_message("ping")
        async def ping(self, ws: Any, payload: Any) -> None:
            seen.append("handler")

    Hooked.hooks.add("before_receive", lambda ctx: seen.append("before:" + str(ctx.raw)))
    Hooked.hooks.add("after_receive", lambda ctx: seen.append("after"))
    await Hooked().dispatch(await _accepted(), '{"type":"ping"}')
    assert seen == ['before:{"type":"ping"}', "handler", "after"]


async def test_the_receive_loop_runs_receive_hooks_once_per_frame() -> None:
    seen: list[str] = []

    class Hooked(WebSocketResource):
        @handles_message("ping")
        async def ping(self, ws: Any, payload: Any) -> None:
            seen.append("handler")
            await ws.send_media("pong")

    Hooked.hooks.add("before_receive", lambda ctx: seen.append("before"))
    Hooked.hooks.add("after_receive", lambda ctx: seen.append("after"))
    harness = SimulatorRouterHarness()
    harness.router.add_route("/h", Hooked)
    async with harness.connect("/h") as conn:
        await conn.push_json({"type": "ping"})
        assert await conn.receive_json() == "pong"
        await conn.close()
    assert seen == ["before", "handler", "after"]


async def test_hooks_are_bound_to_every_resource_of_a_nested_chain() -> None:
    seen: list[str] = []
    built: dict[str, WebSocketResource] = {}

    class Child(WebSocketResource):
        def __init__(self) -> None:
            built["child"] = self

        @handles_message("ping")
        async def ping(self, ws: Any, payload: Any) -> None:
            seen.append("child-handler")

    class Parent(WebSocketResource):
        def __init__(self) -> None:
            built["parent"] = self
            self.add_subroute("/child", Child)

        @handles_message("ping")
        async def ping(self, ws: Any, payload: Any) -> None:
            seen.append("parent-handler")

    Parent.hooks.add("before_receive", lambda ctx: seen.append("parent-hook"))
    Child.hooks.add("before_receive", lambda ctx: seen.append("child-hook"))
    router = WebSocketRouter()
    router.global_hooks.add("before_receive", lambda ctx: seen.append("global-hook"))
    router.add_route("/parent", Parent)
    harness = SimulatorRouterHarness(router=router)
    async with harness.connect("/parent/child") as conn:
        # Published code may dispatch to the parent itself: the router's
        # hooks and the parent's run (not the child's, which is inner).
        await built["parent"].dispatch(conn.websocket, '{"type":"ping"}')
        assert seen == ["global-hook", "parent-hook", "parent-handler"]
        seen.clear()
        await built["child"].dispatch(conn.websocket, '{"type":"ping"}')
        assert seen == ["global-hook", "parent-hook", "child-hook", "child-handler"]


async def test_the_loop_uses_the_hook_manager_bound_to_the_resource() -> None:
    """One binding, one path (issue 11): the receive loop runs the receive
    hooks of the manager bound to the resource (what ``dispatch()`` reads),
    also when published code binds its own in ``on_connect``; the loop does
    not keep a second copy that a rebinding leaves behind.
    """
    seen: list[str] = []
    audit = HookCollection()
    audit.add("before_receive", lambda ctx: seen.append("audit:" + str(ctx.raw)))

    class Audited(WebSocketResource):
        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            self.bind_hook_manager(HookManager(global_hooks=audit, resources=[self]))
            return True

        @handles_message("ping")
        async def ping(self, ws: Any, payload: Any) -> None:
            seen.append("handler")
            await ws.send_media("pong")

    harness = SimulatorRouterHarness()
    harness.router.add_route("/a", Audited)
    async with harness.connect("/a") as conn:
        await conn.push_json({"type": "ping"})
        assert await conn.receive_json() == "pong"
        await conn.close()
    assert seen == ['audit:{"type":"ping"}', "handler"]


async def test_after_connect_hooks_see_the_error_when_on_connect_raises() -> None:
    errors: list[BaseException | None] = []

    class Broken(WebSocketResource):
        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            raise LookupError("no such user")

    def record(ctx: HookContext) -> None:
        errors.append(ctx.error)

    Broken.hooks.add("after_connect", record)
    harness = SimulatorRouterHarness()
    harness.router.add_route("/b", Broken)
    with pytest.raises(LookupError):
        async with harness.connect("/b"):
            pass
    assert len(errors) == 1 and isinstance(errors[0], LookupError)


class Pinger(WebSocketResource):
    def __init__(self) -> None:
        self.pings = 0

    async def on_ping(self, ws: Any, payload: Any) -> None:
        self.pings += 1

    async def on_send_message(self, ws: Any, payload: Any) -> None:
        self.pings += 100


async def test_client_chosen_tag_spellings_leave_the_caches_flat() -> None:
    r, ws = Pinger(), await _accepted()
    # The usual spellings route straight from the table.
    for tag in ("send_message", "sendMessage", "SendMessage", "send.message", "send-message"):
        await r.dispatch(ws, f'{{"type": "{tag}"}}')
    assert r.pings == 500
    before = dispatcher_sizes(Pinger)
    for i in range(1100):  # 1,100 distinct 2 KiB spellings that all mean ping
        tag = "." * i + "ping" + "-" * (2048 - i)
        await r.dispatch(ws, f'{{"type": "{tag}", "payload": {i}}}')
    assert r.pings == 500 + 1100
    assert dispatcher_sizes(Pinger) == before


class Deep(WebSocketResource):
    max_depth = 100_000  # far above what Python's recursion limit allows

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
        self.outcomes.append(f"invalid:{type(error).__name__}")

    @handles_message("nest")
    async def nest(self, ws: Any, payload: list[Any]) -> None:
        self.outcomes.append("handled")


DEEP = '{"type": "nest", "payload": ' + "[" * 20_000 + "]" * 20_000 + "}"


async def test_a_payload_too_deep_for_the_decoder_is_a_validation_failure() -> None:
    r, ws = Deep(), await _accepted()
    await r.dispatch(ws, DEEP)
    await r.dispatch(ws, '{"type": "nest", "payload": [[1]]}')
    assert r.outcomes == ["invalid:RecursionError", "handled"]


async def test_too_deep_through_the_loop_keeps_the_connection() -> None:
    built: list[Deep] = []

    def factory() -> Deep:
        built.append(Deep())
        return built[-1]

    harness = SimulatorRouterHarness()
    harness.router.add_route("/d", factory)
    async with harness.connect("/d") as conn:
        await conn.push_text(DEEP)
        await conn.push_json({"type": "nest", "payload": []})
        await conn.close()
        assert conn.close_code is None  # the server never closed it (no 1011)
    assert built[0].outcomes == ["invalid:RecursionError", "handled"]
    stats = harness.manager.stats()["unhandled_frames"]
    assert stats.get("too_deep") == 1

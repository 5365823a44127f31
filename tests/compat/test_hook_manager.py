"""``HookManager``'s published ``notify_*`` methods and the hook type names."""

from __future__ import annotations

from typing import Any, get_args

import falcon_pachinko as fp
from falcon_pachinko.hooks import EventType, HookCallable, HookCollection, HookContext, HookManager


class Parent(fp.WebSocketResource):
    pass


class Child(fp.WebSocketResource):
    pass


def _chain(log: list[tuple[str, str, Any]]) -> tuple[HookManager, Parent, Child]:
    global_hooks = HookCollection()
    parent, child = Parent(), Child()
    parent.hooks = HookCollection()
    child.hooks = HookCollection()
    for label, coll in (("global", global_hooks), ("parent", parent.hooks), ("child", child.hooks)):
        for event in (
            "before_connect",
            "after_connect",
            "before_receive",
            "after_receive",
            "before_disconnect",
        ):

            def hook(ctx: HookContext, label: str = label) -> None:
                log.append((label, str(ctx.event), ctx.target))

            coll.add(event, hook)
    return HookManager(global_hooks=global_hooks, resources=[parent, child]), parent, child


async def test_notify_methods_run_in_onion_order() -> None:
    log: list[tuple[str, str, Any]] = []
    manager, _parent, child = _chain(log)

    ctx = await manager.notify_before_connect(child, req=None, ws="ws", params={"room": "a"})
    assert isinstance(ctx, HookContext) and ctx.params == {"room": "a"} and ctx.ws == "ws"
    assert ctx.resource is None
    await manager.notify_after_connect(ctx)
    assert [(label, event) for label, event, _ in log] == [
        ("global", "before_connect"),
        ("parent", "before_connect"),
        ("child", "before_connect"),
        ("child", "after_connect"),
        ("parent", "after_connect"),
        ("global", "after_connect"),
    ]
    assert all(target is child for _, _, target in log)

    log.clear()
    ctx = await manager.notify_before_receive(child, ws="ws", raw='{"type":"x"}')
    assert ctx.raw == '{"type":"x"}'
    await manager.notify_after_receive(ctx)
    ctx = await manager.notify_before_disconnect(child, ws="ws", close_code=1001)
    assert ctx.close_code == 1001
    assert [label for label, _, _ in log] == [
        "global",
        "parent",
        "child",
        "child",
        "parent",
        "global",
        "global",
        "parent",
        "child",
    ]


async def test_notify_for_a_target_inside_the_chain_stops_there() -> None:
    log: list[tuple[str, str, Any]] = []
    manager, parent, _child = _chain(log)
    await manager.notify_before_receive(parent, ws=None, raw="x")
    assert [label for label, _, _ in log] == ["global", "parent"]


async def test_async_hooks_are_awaited() -> None:
    seen: list[str] = []

    async def hook(ctx: HookContext) -> None:
        seen.append(str(ctx.event))

    hooks = HookCollection()
    hooks.add("before_receive", hook)
    manager = HookManager(global_hooks=hooks, resources=[Parent()])
    await manager.notify_before_receive(manager.resources[0], ws=None, raw="x")
    assert seen == ["before_receive"]


def test_published_type_names() -> None:
    def hook(ctx: HookContext) -> None:
        return None

    typed: HookCallable = hook
    event: EventType = "before_connect"
    assert callable(typed) and event == "before_connect"
    literal = [arg for arg in get_args(EventType) if get_args(arg)]
    assert set(get_args(literal[0])) == {e.value for e in fp.HookEvent}

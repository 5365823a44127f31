"""Lifecycle hooks: global (router) and per-resource, run in onion order.

Before-hooks run global -> root resource -> ... -> target; after-hooks run
in reverse. ``HookManager`` flattens the chain once per connection so a
connection without receive hooks pays nothing per message.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "EventType",
    "HookCallable",
    "HookCollection",
    "HookContext",
    "HookEvent",
    "HookManager",
]


class HookEvent(StrEnum):
    """The points of a connection's life where hooks run."""

    BEFORE_CONNECT = "before_connect"
    AFTER_CONNECT = "after_connect"
    BEFORE_RECEIVE = "before_receive"
    AFTER_RECEIVE = "after_receive"
    BEFORE_DISCONNECT = "before_disconnect"


#: Published name: a hook takes the context and may be sync or async. The
#: one hook type: ``HookCollection.add`` and the manager use it too.
HookCallable = Callable[["HookContext"], Awaitable[None] | None]
#: Published name: an event as accepted by ``HookCollection.add`` and friends.
EventType = (
    HookEvent
    | Literal[
        "before_connect", "after_connect", "before_receive", "after_receive", "before_disconnect"
    ]
)
_EVENTS = frozenset(e.value for e in HookEvent)
log = logging.getLogger("falcon_pachinko.connection")


def _event(event: str) -> HookEvent:
    if isinstance(event, HookEvent):
        return event
    if event not in _EVENTS:
        raise ValueError(
            f"Unsupported hook event {event!r}; expected one of {', '.join(sorted(_EVENTS))}"
        )
    return HookEvent(event)


class HookCollection:
    """Hooks per event, optionally inheriting a parent collection's hooks.

    A subclass's collection sees its parent's hooks first, then its own;
    hooks added to the parent later are seen too (the link is live).
    """

    __slots__ = ("_hooks", "parent")

    def __init__(
        self,
        initial: Mapping[str, Iterable[HookCallable]] | None = None,
        *,
        parent: HookCollection | None = None,
    ) -> None:
        self.parent = parent
        self._hooks: dict[HookEvent, list[HookCallable]] = {}
        for event, hooks in (initial or {}).items():
            for hook in hooks:
                self.add(event, hook)

    @classmethod
    def inherit(cls, parent: HookCollection | None) -> HookCollection:
        """A new, empty collection whose ``iter`` yields ``parent``'s hooks first."""
        return cls(parent=parent)

    def add(self, event: str, hook: HookCallable) -> None:
        """Register ``hook`` (sync or async, taking a HookContext) for ``event``."""
        key = _event(event)
        if not callable(hook):
            raise TypeError("hook must be callable")
        self._hooks.setdefault(key, []).append(hook)

    def iter(self, event: str) -> Iterator[HookCallable]:
        """Hooks for ``event``: inherited ones first, then this collection's."""
        key = _event(event)
        if self.parent is not None:
            yield from self.parent.iter(key)
        yield from self._hooks.get(key, ())


class HookContext:
    """What a hook sees and may change: mutable, one per hook invocation."""

    __slots__ = (
        "close_code",
        "error",
        "event",
        "params",
        "raw",
        "req",
        "resource",
        "result",
        "target",
        "ws",
    )

    def __init__(
        self,
        event: str,
        *,
        target: Any = None,
        resource: Any = None,
        req: Any = None,
        ws: Any = None,
        params: dict[str, Any] | None = None,
        raw: str | bytes | None = None,
        result: Any = None,
        error: BaseException | None = None,
        close_code: int | None = None,
    ) -> None:
        self.event = _event(event)
        self.target = target
        self.resource = resource
        self.req = req
        self.ws = ws
        self.params = params if params is not None else {}
        self.raw = raw
        self.result = result
        self.error = error
        self.close_code = close_code

    def __repr__(self) -> str:
        return f"HookContext(event={self.event.value!r}, target={self.target!r})"


class HookManager:
    """Runs one connection's hooks across the router and the resource chain.

    ``resources`` is the chain from the root resource to the target. Each
    hook's ``ctx.resource`` is the resource that owns the hook (``None`` for
    global hooks); ``ctx.target`` is always the target resource.
    """

    __slots__ = ("_after", "_before", "global_hooks", "has_receive_hooks", "resources")

    def __init__(self, *, global_hooks: HookCollection | None, resources: Sequence[Any]) -> None:
        self.global_hooks = global_hooks or HookCollection()
        self.resources = list(resources)
        layers: list[tuple[Any, HookCollection]] = [(None, self.global_hooks)]
        layers += [(r, r.hooks) for r in self.resources if getattr(r, "hooks", None) is not None]
        self._before: dict[HookEvent, list[tuple[Any, HookCallable]]] = {}
        for event in HookEvent:
            self._before[event] = [(owner, h) for owner, coll in layers for h in coll.iter(event)]
        self._after = {event: list(reversed(hooks)) for event, hooks in self._before.items()}
        # PERF: read by ``WebSocketResource.dispatch`` on every frame.
        self.has_receive_hooks = bool(
            self._before[HookEvent.BEFORE_RECEIVE] or self._before[HookEvent.AFTER_RECEIVE]
        )

    async def _run(self, hooks: list[tuple[Any, HookCallable]], ctx: HookContext) -> None:
        for owner, hook in hooks:
            ctx.resource = owner
            result = hook(ctx)
            if inspect.isawaitable(result):
                await result

    async def run_before(self, event: str, ctx: HookContext) -> None:
        """Outer to inner; the first raising hook stops the rest and propagates."""
        hooks = self._before[_event(event)]
        if hooks:
            await self._run(hooks, ctx)

    async def run_after(self, event: str, ctx: HookContext) -> None:
        """Inner to outer; they see ``ctx.error`` when the step failed."""
        hooks = self._after[_event(event)]
        if hooks:
            await self._run(hooks, ctx)

    async def around_receive(
        self,
        target: Any,
        ws: Any,
        raw: str | bytes,
        step: Callable[[Any, str | bytes], Awaitable[None]],
        *,
        req: Any = None,
    ) -> None:
        """``before_receive`` hooks, ``step(ws, raw)``, ``after_receive`` hooks.

        The layers are those from the router down to ``target`` (a parent
        of the chain sees only its own and outer hooks). A before-hook that
        raises vetoes this frame only: it is logged, the after-hooks see
        ``ctx.error``, and the connection goes on. A failing step is seen by
        the after-hooks as ``ctx.error`` and then re-raised. Hooks may
        replace ``ctx.raw`` before the step.
        """
        chain = self._chain_to(target, HookEvent.BEFORE_RECEIVE)
        if chain is None:
            before = self._before[HookEvent.BEFORE_RECEIVE]
            after = self._after[HookEvent.AFTER_RECEIVE]
        else:
            before = chain
            after = (self._chain_to(target, HookEvent.AFTER_RECEIVE) or [])[::-1]
        ctx = HookContext(HookEvent.BEFORE_RECEIVE, target=target, req=req, ws=ws, raw=raw)
        try:
            await self._run(before, ctx)
        except Exception as exc:  # noqa: BLE001 - a before-hook vetoes this frame only
            log.warning(
                "before_receive hook refused a frame on %s: %r", type(target).__qualname__, exc
            )
            ctx.error, ctx.event = exc, HookEvent.AFTER_RECEIVE
            await self._run(after, ctx)
            return
        try:
            await step(ws, ctx.raw if ctx.raw is not None else raw)
        except Exception as exc:
            ctx.error, ctx.event = exc, HookEvent.AFTER_RECEIVE
            await self._run(after, ctx)
            raise
        ctx.event = HookEvent.AFTER_RECEIVE
        await self._run(after, ctx)

    # -- published API: one call per lifecycle step ---------------------------
    # Code written against the published HookManager drives hooks with these;
    # the library's own loop uses run_before/run_after directly.

    def _chain_to(self, target: Any, event: HookEvent) -> list[tuple[Any, HookCallable]] | None:
        """Before-hooks of the layers up to ``target`` when it is not the last
        resource of the chain (published: layers stop at the target), else None.
        """
        if not self.resources or target is self.resources[-1] or target not in self.resources:
            return None
        chain = self.resources[: self.resources.index(target) + 1]
        layers: list[tuple[Any, HookCollection]] = [(None, self.global_hooks)]
        layers += [(r, r.hooks) for r in chain if getattr(r, "hooks", None) is not None]
        return [(owner, h) for owner, coll in layers for h in coll.iter(event)]

    async def _notify(self, event: HookEvent, ctx: HookContext, *, reverse: bool) -> None:
        ctx.event = event
        hooks = self._chain_to(ctx.target, event)
        if hooks is None:
            hooks = self._after[event] if reverse else self._before[event]
        elif reverse:
            hooks = hooks[::-1]
        try:
            await self._run(hooks, ctx)
        finally:
            ctx.resource = None

    async def notify_before_connect(
        self, target: Any, *, req: Any, ws: Any, params: dict[str, Any]
    ) -> HookContext:
        """Run ``before_connect`` hooks (outer to inner); the context to pass on."""
        ctx = HookContext(HookEvent.BEFORE_CONNECT, target=target, req=req, ws=ws, params=params)
        await self._notify(HookEvent.BEFORE_CONNECT, ctx, reverse=False)
        return ctx

    async def notify_after_connect(self, context: HookContext) -> None:
        """Run ``after_connect`` hooks (inner to outer) with ``context``."""
        await self._notify(HookEvent.AFTER_CONNECT, context, reverse=True)

    async def notify_before_receive(self, target: Any, *, ws: Any, raw: str | bytes) -> HookContext:
        """Run ``before_receive`` hooks; the context to hand to ``notify_after_receive``."""
        ctx = HookContext(HookEvent.BEFORE_RECEIVE, target=target, ws=ws, raw=raw)
        await self._notify(HookEvent.BEFORE_RECEIVE, ctx, reverse=False)
        return ctx

    async def notify_after_receive(self, context: HookContext) -> None:
        """Run ``after_receive`` hooks (inner to outer) with ``context``."""
        await self._notify(HookEvent.AFTER_RECEIVE, context, reverse=True)

    async def notify_before_disconnect(
        self, target: Any, *, ws: Any, close_code: int
    ) -> HookContext:
        """Run ``before_disconnect`` hooks (outer to inner)."""
        ctx = HookContext(HookEvent.BEFORE_DISCONNECT, target=target, ws=ws, close_code=close_code)
        await self._notify(HookEvent.BEFORE_DISCONNECT, ctx, reverse=False)
        return ctx

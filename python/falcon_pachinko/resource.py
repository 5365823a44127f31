"""``WebSocketResource``: one instance per connection, handlers per message type.

The class body declares handlers (``@handles_message`` or ``on_<tag>``);
``__init_subclass__`` compiles them once into a ``Dispatcher`` so that
``dispatch`` does one native scan, one table slot, one prebuilt msgspec
decode and one call per frame.
"""

from __future__ import annotations

import functools
import logging
import types
from collections.abc import Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import falcon.asgi

from ._dispatch import (
    ADDED,
    BINARY,
    REFUSED,
    UNKNOWN_TYPE,
    Dispatcher,
    Entry,
    reason_for,
)
from ._templates import RouteMatcher
from .exceptions import FrameError
from .handlers import HandlerInfo, inspect_handler
from .hooks import HookCollection, HookManager

if TYPE_CHECKING:
    from .delivery import DeliveryResult
    from .manager import WebSocketConnectionManager

__all__ = ["WebSocketResource"]

log = logging.getLogger("falcon_pachinko.resource")
# Frames that reach no handler: one DEBUG line each (README "Logging").
dispatch_log = logging.getLogger("falcon_pachinko.dispatch")

# Close codes a resource may choose for frames it refuses (RFC 6455 §7.4.1).
INVALID_FRAME_CODES = frozenset({1003, 1007, 1008})
# What the ``state`` setter requires of a replacement (published check).
_STATE_METHODS = ("__getitem__", "__setitem__", "__iter__")


class _AddHandlerMethod(Protocol):
    def __call__(
        self, tag: str, fn: Callable[..., Any], *, payload_type: Any = None, strict: bool = True
    ) -> None: ...


def _handler_info(tag: str, fn: Any, payload_type: Any, strict: bool) -> HandlerInfo:
    """Validate ``fn`` (a function or bound method) and fix its payload type."""
    target = getattr(fn, "__func__", fn)
    info = inspect_handler(tag, target, strict=strict)
    if payload_type is not None:
        info = HandlerInfo(tag, target, payload_type, strict, info.payload_param, info.positional)
    return info


def _rebuild(cls: type[WebSocketResource]) -> None:
    """Rebuild the dispatch table of ``cls`` and of every subclass below it."""
    cls._dispatcher = Dispatcher.build(cls)
    cls.handlers = {e.info.tag: e.info for e in cls._dispatcher.entries if e.info}
    for sub in cls.__subclasses__():
        _rebuild(sub)


def _add_to_class(
    cls: type[WebSocketResource],
    tag: str,
    fn: Callable[..., Any],
    *,
    payload_type: Any = None,
    strict: bool = True,
) -> None:
    """``Class.add_handler``: every connection of ``cls`` (and its subclasses)."""
    info = _handler_info(tag, fn, payload_type, strict)
    before = vars(cls).get(ADDED)
    setattr(cls, ADDED, {**(before or {}), tag: info})
    try:
        _rebuild(cls)
    except BaseException:  # e.g. an undecodable payload type: leave cls as it was
        if before is None:
            delattr(cls, ADDED)
        else:
            setattr(cls, ADDED, before)
        _rebuild(cls)
        raise


def _add_to_instance(
    self: WebSocketResource,
    tag: str,
    fn: Callable[..., Any],
    *,
    payload_type: Any = None,
    strict: bool = True,
) -> None:
    """``resource.add_handler``: this instance only; its table is rebuilt once."""
    info = _handler_info(tag, fn, payload_type, strict)
    extra = {**self.__dict__.get("_extra_handlers", {}), tag: info}
    dispatcher = Dispatcher.build(type(self), extra)
    self.__dict__["_extra_handlers"] = extra
    self.__dict__["_dispatcher"] = dispatcher
    self.__dict__["handlers"] = {e.info.tag: e.info for e in dispatcher.entries if e.info}


class _AddHandler:
    """``add_handler(tag, fn, *, payload_type=None, strict=True)``.

    On the class it registers class-wide (published: a classmethod); on an
    instance, for that instance only (what a per-connection resource needs
    when handlers depend on ``on_connect``). ``fn`` is called as
    ``fn(resource, ws, payload)``; a bound method's function is used.
    """

    def __get__(self, instance: Any, owner: type[Any]) -> _AddHandlerMethod:
        if instance is None:
            return types.MethodType(_add_to_class, owner)
        return types.MethodType(_add_to_instance, instance)


class WebSocketResource:
    """Base class for WebSocket resources (one instance per connection).

    Class attributes (override in subclasses)
    -----------------------------------------
    schema:
        ``None`` for the envelope format ``{"type": ..., "payload": ...}``, or
        a tagged msgspec Struct / union of them for the flat tagged format.
    max_frame_size, max_depth:
        Limits applied by the frame scan; a larger frame closes with 1009.
    binary_frames:
        ``"dispatch"`` (default: decoded as UTF-8 JSON like text frames, as
        the published API does), ``"unhandled"`` (binary frames go to
        ``on_unhandled``) or ``"close"`` (close 1003). Every binary frame is
        held to ``max_frame_size`` whatever the choice.
    invalid_frame_close_code:
        ``None`` (default: bad frames go to ``on_unhandled``) or one of
        1003/1007/1008 to close the connection instead.
    handler_error_close_code:
        Close code when a handler raises (default 1011).
    buffered_receive:
        ``False`` (default): the router reads frames straight from the ASGI
        server for this resource's connections, and reads ahead (at most
        Falcon's ``ws_options.max_receive_queue`` frames, at least one) only
        while a handler is suspended, so a disconnect is still noticed at
        once. ``True`` keeps Falcon's own buffered receive (a pump task per
        connection), e.g. for code that reads ``ws`` itself outside
        handlers. The app's ``ws_options`` are never changed.
    subprotocol:
        ``None``, a subprotocol name, or names in preference order (may be
        set per connection in ``on_connect``); the first one the client
        offered is accepted, and none is sent when nothing matches.
    """

    schema: ClassVar[Any] = None
    max_frame_size: ClassVar[int] = 1 << 20
    max_depth: ClassVar[int] = 64
    binary_frames: ClassVar[Literal["unhandled", "dispatch", "close"]] = "dispatch"
    invalid_frame_close_code: ClassVar[int | None] = None
    handler_error_close_code: ClassVar[int] = 1011
    buffered_receive: ClassVar[bool] = False
    subprotocol: str | Sequence[str] | None = None
    hooks: ClassVar[HookCollection] = HookCollection()
    handlers: ClassVar[dict[str, HandlerInfo]] = {}
    _dispatcher: ClassVar[Dispatcher]

    # Set by the router on accepted connections.
    connection_id: str | None = None
    close_code: int | None = None
    _manager: WebSocketConnectionManager | None = None
    _hook_manager: HookManager | None = None
    _request_path: str | None = None
    _request: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.invalid_frame_close_code not in (None, *INVALID_FRAME_CODES):
            raise ValueError("invalid_frame_close_code must be None, 1003, 1007 or 1008")
        if cls.binary_frames not in ("dispatch", "unhandled", "close"):
            raise ValueError(
                f"{cls.__qualname__}.binary_frames must be 'dispatch', 'unhandled' or 'close'; "
                f"got {cls.binary_frames!r}"
            )
        if "hooks" not in vars(cls):
            parent = next(vars(k)["hooks"] for k in cls.__mro__[1:] if "hooks" in vars(k))
            cls.hooks = HookCollection.inherit(parent)
        cls._dispatcher = Dispatcher.build(cls)
        cls.handlers = {
            entry.info.tag: entry.info for entry in cls._dispatcher.entries if entry.info
        }

    # -- per-connection state -------------------------------------------------

    @property
    def state(self) -> MutableMapping[str, Any]:
        """Per-connection mapping, shared down a nested chain; replaceable."""
        try:
            return self.__dict__["_state"]  # type: ignore[no-any-return]
        except KeyError:
            state: dict[str, Any] = {}
            self.__dict__["_state"] = state
            return state

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        # Published check: anything dict-like will do (a Redis-hash proxy),
        # but a value that cannot be read, written and iterated would only
        # fail later, inside a handler.
        missing = [m for m in _STATE_METHODS if not callable(getattr(value, m, None))]
        if missing:
            raise TypeError(
                f"state must be a mapping supporting __getitem__, __setitem__ and __iter__; "
                f"{type(value).__name__} lacks {', '.join(missing)}"
            )
        self.__dict__["_state"] = value

    # -- lifecycle (override) -------------------------------------------------

    # NOTE: `*args: Any, **params: Any` is what lets a subclass declare the
    # route parameters it takes (`on_connect(self, req, ws, room: str)`)
    # without a mypy override error: mypy treats that pair as "any
    # parameters"; `**params` alone is not. Keep `*args` (DESIGN §6.5).
    async def on_connect(self, req: Any, ws: Any, *args: Any, **params: Any) -> bool:
        """Decide whether to accept; falsy rejects (HTTP 403 to the client).

        Route parameters arrive as keyword arguments; ``*args`` is never
        filled, it only widens the declaration for subclasses' type checks.
        """
        return True

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        """Runs exactly once when the connection ends, with its close code."""

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        """Frames no handler takes (unknown type, invalid JSON, failed validation)."""

    on_validation_error: Callable[..., Any] | None = None
    """Optional ``async (ws, raw, error)`` called INSTEAD of ``on_unhandled``
    for frames that fail scanning or payload validation (one frame, one
    outcome)."""

    # -- dispatch ---------------------------------------------------------------

    # NOTE: the library's own machinery has private names only (``_route``,
    # ``_fallback``, ``_close``, ``_dispatch_frame``): user code freely sets
    # attributes such as ``self.route = "lobby"``, ``self.fallback = []`` or
    # ``self.close = ...`` (DESIGN §6.3), which must neither break dispatch
    # nor fail a type check against a method of the same name.

    def _route(self, raw: str | bytes) -> tuple[Entry, Any]:
        """The synchronous half of dispatch: ``(entry, value)`` for one frame.

        The dispatcher's :meth:`~falcon_pachinko._dispatch.Dispatcher.resolve`
        (the one message path): a normal entry has ``call`` set and ``value``
        is the decoded payload; frames that cannot be dispatched yield a
        sentinel entry with no ``call`` for :meth:`_fallback`, with the error
        (``REFUSED``) or the reason string (``UNHANDLED``, ``BINARY``).
        """
        return self._dispatcher.resolve(raw)

    async def _fallback(self, ws: Any, raw: str | bytes, entry: Entry, error: Any) -> None:
        """What happens to a frame :meth:`_route` could not give to a handler.

        Exactly one outcome per frame, after one DEBUG line and one count.
        """
        if entry is REFUSED:
            self._not_dispatched(reason_for(error), error)
            await self._refuse(ws, raw, error)
            return
        reason = error if isinstance(error, str) else UNKNOWN_TYPE
        self._not_dispatched(reason, None)
        if entry is BINARY and self.binary_frames == "close":
            await self._close(ws, 1003)
        else:
            await self.on_unhandled(ws, raw)

    def _not_dispatched(self, reason: str, error: BaseException | None) -> None:
        """Log (DEBUG) and count one frame that reaches no handler.

        Runs only off the fast path: frames that reach a handler never get here.
        """
        dispatch_log.debug(
            "frame not dispatched: reason=%s connection=%s path=%s resource=%s%s",
            reason,
            self.connection_id,
            self._request_path,
            type(self).__qualname__,
            "" if error is None else f" error={error}",
        )
        manager = self._manager
        if manager is not None:
            manager.count_unhandled(self.connection_id, reason)

    async def dispatch(self, ws: Any, raw: str | bytes) -> None:
        """Dispatch one frame to its handler (used by the receive loop and tests).

        The ``before_receive``/``after_receive`` hooks of the bound hook
        manager run around it (the default manager, this resource's own
        hooks, is bound on first use when none is). The receive loop calls
        this method rather than running the hooks itself, so an override
        that calls ``super().dispatch`` keeps them, and they never run twice.
        """
        hooks = self._hook_manager
        if hooks is None:
            hooks = type(self).bind_default_hook_manager(self)
        if hooks.has_receive_hooks:
            await hooks.around_receive(self, ws, raw, self._dispatch_frame, req=self._request)
        else:
            await self._dispatch_frame(ws, raw)

    async def _dispatch_frame(self, ws: Any, raw: str | bytes) -> None:
        """Route one frame and call its handler or fallback (no hooks).

        The same path the receive loop takes: ``Dispatcher.handle``.
        """
        await self._dispatcher.handle(self, ws, raw)

    async def _refuse(self, ws: Any, raw: str | bytes, error: BaseException) -> None:
        """A frame that cannot be dispatched: close, else the hook, else on_unhandled."""
        if isinstance(error, FrameError) and error.kind == "too_large":
            # The reason only for Falcon's socket: a user's WebSocketLike may
            # take a code alone. It names the limit (the error's position),
            # so a client's developer need not read the server's code.
            reason = (
                f"frame too large (limit {error.position} bytes)"
                if isinstance(ws, falcon.asgi.WebSocket)
                else None
            )
            await self._close(ws, 1009, reason)
            return
        if self.invalid_frame_close_code is not None:
            await self._close(ws, self.invalid_frame_close_code)
            return
        if self.on_validation_error is not None:
            await self.on_validation_error(ws, raw, error)
        else:
            await self.on_unhandled(ws, raw)

    async def _close(self, ws: Any, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection with ``code``; the receive loop ends after it."""
        if self.close_code is None:
            self.close_code = code
        await ws.close(code) if reason is None else await ws.close(code, reason)

    add_handler = _AddHandler()

    # -- nesting ---------------------------------------------------------------

    def add_subroute(
        self,
        path: str,
        resource: Callable[..., WebSocketResource],
        *,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Nest ``resource`` under ``path`` relative to this resource (call in ``__init__``)."""
        if not callable(resource):
            raise TypeError("resource must be callable")
        factory = functools.partial(resource, *args, **(kwargs or {}))
        subroutes: list[tuple[RouteMatcher, Callable[..., WebSocketResource]]]
        subroutes = self.__dict__.setdefault("_subroutes", [])
        matcher = RouteMatcher(path)
        if any(m.template == matcher.template for m, _ in subroutes):
            raise ValueError(f"subroute path {matcher.template!r} already registered")
        subroutes.append((matcher, factory))

    @property
    def subroutes(self) -> list[tuple[RouteMatcher, Callable[..., WebSocketResource]]]:
        return self.__dict__.get("_subroutes", [])  # type: ignore[no-any-return]

    def get_child_context(self) -> dict[str, Any]:
        """Keyword arguments for a nested child's constructor (``state`` replaces its state)."""
        return {}

    # -- hooks -----------------------------------------------------------------

    def bind_hook_manager(self, manager: HookManager) -> None:
        """Use ``manager``'s hooks for this resource (published).

        The router binds one manager per connection to every resource of
        the chain before ``on_connect``; the binding is the one place the
        receive hooks come from: ``dispatch()`` runs them and the receive
        loop reads it, so a manager bound in ``on_connect`` takes effect.
        """
        self._hook_manager = manager

    def bind_default_hook_manager(self) -> HookManager:
        """Hooks of this resource alone (no router), e.g. for direct dispatch in tests."""
        manager = HookManager(global_hooks=None, resources=[self])
        self._hook_manager = manager
        return manager

    # -- connection-manager helpers ------------------------------------------------

    def _require_manager(self) -> tuple[WebSocketConnectionManager, str]:
        if self._manager is None or self.connection_id is None:
            raise RuntimeError(
                "no connection manager: call falcon_pachinko.install(app) and connect "
                "through a WebSocketRouter mounted on that app"
            )
        return self._manager, self.connection_id

    async def join_room(self, room: str) -> None:
        manager, conn_id = self._require_manager()
        await manager.join_room(conn_id, room)

    async def leave_room(self, room: str) -> None:
        manager, conn_id = self._require_manager()
        await manager.leave_room(conn_id, room)

    async def broadcast_to_room(
        self, room: str, message: Any, *, exclude_self: bool = False
    ) -> DeliveryResult:
        """Broadcast to ``room`` (see ``WebSocketConnectionManager.broadcast_to_room``):
        returns without waiting for slow members, never raises for their trouble.
        """
        manager, conn_id = self._require_manager()
        exclude = (conn_id,) if exclude_self else None
        return await manager.broadcast_to_room(room, message, exclude=exclude)

    async def set_user(self, user_id: str | None) -> None:
        manager, conn_id = self._require_manager()
        await manager.set_user(conn_id, user_id)


WebSocketResource._dispatcher = Dispatcher.build(WebSocketResource)

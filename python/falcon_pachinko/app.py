"""``install(app)``: a connection manager bound to an app, duck-typed.

``install`` asks nothing of ``app`` beyond being able to hold attributes:
it wires the manager's lifespan middleware only when the app has
``add_middleware`` and registers routes only when it has ``add_route``, so
code written against the published API (which installs onto any object)
keeps working. Falcon 4's ``falcon.asgi.App`` declares ``__slots__`` and
refuses new attributes, so that app object gets a private subclass of its
own class (adding no slots, so ``isinstance(app, falcon.asgi.App)`` holds)
whose class attributes expose ``ws_connection_manager`` (a property, so
assigning a new manager works), ``add_websocket_route`` and
``create_websocket_resource``. Objects with a ``__dict__`` get plain
instance attributes.

Whichever manager ``app.ws_connection_manager`` holds when a connection
arrives is the one that connection uses: the middleware reads it from the
app per request instead of capturing the first one, so
``app.ws_connection_manager = WebSocketConnectionManager(backend=...)``
after ``install`` (the published users guide's pattern) takes effect.
"""

from __future__ import annotations

import warnings
from types import MethodType
from typing import Any

from .backends.base import ConnectionBackend
from .exceptions import (
    InvalidWebSocketRoutePathError,
    PartialWebSocketInstallError,
    WebSocketResourceNotFoundError,
)
from .lifespan import mark_running
from .manager import WebSocketConnectionManager
from .resource import WebSocketResource
from .router import WebSocketRouter

__all__ = ["connection_manager", "install"]

_STATE = "_pachinko_state"
_MANAGER = "ws_connection_manager"
# What install puts on an app; finding some of them without its state means
# someone else half-installed, and going on would leave two managers.
_INSTALLED = (_MANAGER, "add_websocket_route", "create_websocket_resource")


class _State:
    """Per-app bookkeeping: the manager (for slotted apps) and legacy routes."""

    __slots__ = ("legacy", "manager")

    def __init__(self, manager: WebSocketConnectionManager) -> None:
        self.manager = manager
        self.legacy: WebSocketRouter | None = None


def _state(app: Any) -> _State | None:
    return getattr(app, _STATE, None)


def connection_manager(app: Any) -> WebSocketConnectionManager:
    """The manager ``app`` currently holds (``LookupError`` if it has none).

    It reads ``app.ws_connection_manager`` at call time, so a manager
    assigned after ``install`` is the one returned.
    """
    manager = getattr(app, _MANAGER, None)
    if manager is None:
        raise LookupError("falcon_pachinko.install(app) has not been called for this app")
    return manager  # type: ignore[no-any-return]


class _ManagerMiddleware:
    """Falcon middleware: the manager's lifespan and its handle on each request.

    It holds the app, not a manager: the manager is looked up when it is
    needed, so reassigning ``app.ws_connection_manager`` is honoured.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._started: WebSocketConnectionManager | None = None

    async def process_startup(self, scope: Any, event: Any) -> None:
        mark_running()  # workers started later in this lifespan may stop the server (§6.4)
        manager = connection_manager(self.app)
        await manager.start()
        self._started = manager

    async def process_shutdown(self, scope: Any, event: Any) -> None:
        # The manager that was started is the one to stop, even if the app
        # was handed another one meanwhile.
        manager, self._started = self._started, None
        if manager is not None:
            await manager.stop()

    async def process_request_ws(self, req: Any, ws: Any) -> None:
        req.context.ws_connection_manager = connection_manager(self.app)


def _validate_route_path(path: object) -> str:
    """Published rule: a non-empty str starting with ``/``, no whitespace anywhere."""
    if not isinstance(path, str) or not path.startswith("/") or any(ch.isspace() for ch in path):
        raise InvalidWebSocketRoutePathError(path)
    return path


def _add_websocket_route(
    self: Any, path: str, resource_cls: Any, *args: Any, **kwargs: Any
) -> None:
    """Deprecated: use ``WebSocketRouter.add_route`` and ``router.mount(prefix, app=app)``.

    ``args``/``kwargs`` go to the resource's constructor for every connection.
    """
    warnings.warn(
        "app.add_websocket_route() is deprecated; use WebSocketRouter.add_route() "
        "and router.mount(prefix, app=app)",
        DeprecationWarning,
        stacklevel=2,
    )
    path = _validate_route_path(path)
    if not (isinstance(resource_cls, type) and issubclass(resource_cls, WebSocketResource)):
        raise TypeError(
            f"resource_cls must be a subclass of WebSocketResource, got {resource_cls!r}"
        )
    state = _state(self)
    assert state is not None  # the method only exists on installed apps
    if state.legacy is None:
        state.legacy = WebSocketRouter(name="legacy")
        state.legacy.mount("")  # full paths: Falcon routes each one here exactly
    if any(p == path for p, _, _ in state.legacy.routes):
        raise ValueError(f"WebSocket route already registered for path: {path}")
    state.legacy.add_route(path, resource_cls, args=args, kwargs=kwargs)
    add_route = getattr(self, "add_route", None)
    if callable(add_route):
        add_route(path, state.legacy)


def _create_websocket_resource(self: Any, path: str) -> WebSocketResource:
    """Deprecated: a NEW instance of the resource registered for ``path``."""
    warnings.warn(
        "app.create_websocket_resource() is deprecated; resources are created by the router",
        DeprecationWarning,
        stacklevel=2,
    )
    state = _state(self)
    legacy = state.legacy if state is not None else None
    for route_path, factory, _name in legacy.routes if legacy is not None else ():
        if route_path == path:
            return factory()  # type: ignore[no-any-return]
    raise WebSocketResourceNotFoundError(path)


def _get_manager(app: Any) -> WebSocketConnectionManager:
    return getattr(type(app), _STATE).manager  # type: ignore[no-any-return]


def _set_manager(app: Any, manager: WebSocketConnectionManager) -> None:
    getattr(type(app), _STATE).manager = manager


def _attach(app: Any, state: _State) -> None:
    """Give ``app`` the installed attributes, as instance or class attributes."""
    if hasattr(app, "__dict__"):
        app.__dict__.update(
            {
                _STATE: state,
                _MANAGER: state.manager,
                "add_websocket_route": MethodType(_add_websocket_route, app),
                "create_websocket_resource": MethodType(_create_websocket_resource, app),
            }
        )
        return
    cls = type(app)
    namespace = {
        "__slots__": (),
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        _STATE: state,
        _MANAGER: property(_get_manager, _set_manager),
        "add_websocket_route": _add_websocket_route,
        "create_websocket_resource": _create_websocket_resource,
    }
    try:
        app.__class__ = type(cls.__name__, (cls,), namespace)
    except TypeError as exc:
        raise TypeError(
            f"install() cannot attach a connection manager to {cls.__qualname__!r}: "
            "it has neither a __dict__ nor a class that can be extended"
        ) from exc


def install(
    app: Any, *, backend: ConnectionBackend | None = None, **options: Any
) -> WebSocketConnectionManager:
    """Bind a ``WebSocketConnectionManager`` to ``app`` (idempotent) and return it.

    ``options`` go to :class:`WebSocketConnectionManager` (``outbox_size``,
    ``overflow``, ``send_timeout`` ...). Afterwards ``app.ws_connection_manager``
    works, on a plain ``falcon.asgi.App()`` and on any object with a
    ``__dict__``. The manager's startup/shutdown joins the app's lifespan when
    the app has ``add_middleware``.

    Raises
    ------
    PartialWebSocketInstallError
        ``app`` already has some of the installed attributes but was not
        installed by this function.
    ValueError
        ``app`` is installed with a manager whose backend is not ``backend``.
    """
    state = _state(app)
    if state is not None:
        manager = connection_manager(app)
        if backend is not None and backend is not manager.backend:
            raise ValueError("app already has a connection manager with another backend")
        return manager
    present = tuple(name for name in _INSTALLED if hasattr(app, name))
    if present:
        raise PartialWebSocketInstallError(present)
    manager = WebSocketConnectionManager(backend, **options)
    _attach(app, _State(manager))
    add_middleware = getattr(app, "add_middleware", None)
    if callable(add_middleware):
        add_middleware(_ManagerMiddleware(app))
    return manager

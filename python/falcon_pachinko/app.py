"""``install(app)``: a connection manager bound to a Falcon app's lifespan.

Falcon 4's ``falcon.asgi.App`` declares ``__slots__`` and refuses new
attributes, yet users' first example is a plain ``falcon.asgi.App()``. So
``install`` gives that one app object a private subclass of its own class
(adding no slots, so ``isinstance(app, falcon.asgi.App)`` holds) whose class
attributes expose ``ws_connection_manager``, ``add_websocket_route`` and
``create_websocket_resource``. ``connection_manager(app)`` is the plain
accessor. The manager reaches connections through a middleware that also
runs its startup (backend connect) and shutdown (close every socket with
1001, stop the backend) in the ASGI lifespan.
"""

from __future__ import annotations

import warnings
from types import MethodType
from typing import Any

from .backends.base import ConnectionBackend
from .lifespan import mark_running
from .manager import WebSocketConnectionManager
from .resource import WebSocketResource
from .router import WebSocketRouter

__all__ = ["connection_manager", "install"]

_STATE = "_pachinko_state"


class _ManagerMiddleware:
    """Falcon middleware: lifespan for the manager, and its handle on each request."""

    def __init__(self, manager: WebSocketConnectionManager) -> None:
        self.manager = manager

    async def process_startup(self, scope: Any, event: Any) -> None:
        mark_running()  # workers started later in this lifespan may stop the server (§6.4)
        await self.manager.start()

    async def process_shutdown(self, scope: Any, event: Any) -> None:
        await self.manager.stop()

    async def process_request_ws(self, req: Any, ws: Any) -> None:
        req.context.ws_connection_manager = self.manager


class _State:
    __slots__ = ("legacy", "manager")

    def __init__(self, manager: WebSocketConnectionManager) -> None:
        self.manager = manager
        self.legacy: WebSocketRouter | None = None


def _state(app: Any) -> _State | None:
    return getattr(app, _STATE, None)


def connection_manager(app: Any) -> WebSocketConnectionManager:
    """The manager ``install`` bound to ``app`` (``LookupError`` if none)."""
    state = _state(app)
    if state is None:
        raise LookupError("falcon_pachinko.install(app) has not been called for this app")
    return state.manager


def _add_websocket_route(
    self: Any, path: str, resource_cls: Any, *args: Any, **kwargs: Any
) -> None:
    """Deprecated: use ``WebSocketRouter.add_route`` and ``router.mount(prefix, app=app)``."""
    warnings.warn(
        "app.add_websocket_route() is deprecated; use WebSocketRouter.add_route() "
        "and router.mount(prefix, app=app)",
        DeprecationWarning,
        stacklevel=2,
    )
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
    self.add_route(path, state.legacy)


def _create_websocket_resource(self: Any, path: str) -> WebSocketResource:
    """Deprecated: instantiate the resource registered for ``path``."""
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
    raise ValueError(f"No WebSocket resource registered for path: {path}")


def install(
    app: Any, *, backend: ConnectionBackend | None = None, **options: Any
) -> WebSocketConnectionManager:
    """Bind a ``WebSocketConnectionManager`` to ``app`` (idempotent) and return it.

    ``options`` go to :class:`WebSocketConnectionManager` (``outbox_size``,
    ``overflow``, ``send_timeout`` ...). After it, ``app.ws_connection_manager``
    works, even on a plain ``falcon.asgi.App()``.
    """
    state = _state(app)
    if state is not None:
        if backend is not None and backend is not state.manager.backend:
            raise ValueError("app already has a connection manager with another backend")
        return state.manager
    manager = WebSocketConnectionManager(backend, **options)
    state = _State(manager)
    members = {
        _STATE: state,
        "ws_connection_manager": manager,
        "add_websocket_route": _add_websocket_route,
        "create_websocket_resource": _create_websocket_resource,
    }
    if hasattr(app, "__dict__"):
        # An App subclass without __slots__: plain instance attributes.
        app.__dict__.update(
            {
                _STATE: state,
                "ws_connection_manager": manager,
                "add_websocket_route": MethodType(_add_websocket_route, app),
                "create_websocket_resource": MethodType(_create_websocket_resource, app),
            }
        )
    else:
        cls = type(app)
        namespace = {
            "__slots__": (),
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
        }
        app.__class__ = type(cls.__name__, (cls,), {**namespace, **members})
    app.add_middleware(_ManagerMiddleware(manager))
    return manager

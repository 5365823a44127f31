"""``WebSocketRouter``: WebSocket routes mounted on a Falcon ASGI app.

The router is itself a Falcon resource (``on_websocket``) and a WebSocket
sink. ``router.mount("/ws", app=app)`` registers the sink so ``/ws`` and
every path below it reach the router; routes inside are tried in
registration order with Falcon's own URI templates and converters. Nested
resources (``add_subroute``) are resolved by matching a route's template
against a leading part of the path and the rest against the parent's
subroutes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import falcon

from ._router_compat import ResourceFactory, SimulatorFactory, compile_uri_template
from .connection import serve_connection
from .hooks import HookCollection
from .routing import RouteMatcher, canonical_path, normalize_path

if TYPE_CHECKING:
    from .manager import WebSocketConnectionManager
    from .resource import WebSocketResource

__all__ = ["ResourceFactory", "SimulatorFactory", "WebSocketRouter", "compile_uri_template"]

ResourceFactoryFn = Callable[[Callable[..., Any]], Any]
_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")
MAX_NESTING = 32


@dataclass(frozen=True, slots=True)
class _Route:
    path: str
    matcher: RouteMatcher
    factory: functools.partial[Any]
    name: str | None


class WebSocketRouter:
    """Route WebSocket connections to ``WebSocketResource`` classes.

    Parameters
    ----------
    name:
        Optional router name (for diagnostics and AsyncAPI).
    resource_factory:
        ``callable(route_partial) -> resource``; lets a DI container build
        resources (see :class:`falcon_pachinko.di.ServiceContainer`).
    simulator_factory:
        Factory the testing harness uses to create simulated connections.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        resource_factory: ResourceFactoryFn | None = None,
        simulator_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.resource_factory = resource_factory
        self.simulator_factory = simulator_factory
        self.global_hooks = HookCollection()
        self._routes: list[_Route] = []
        self._names: dict[str, _Route] = {}
        self._mount_prefix: str | None = None

    # -- registration ------------------------------------------------------------

    @property
    def routes(self) -> list[tuple[str, Callable[..., Any], str | None]]:
        """``(path, factory, name)`` per route, in registration order."""
        return [(r.path, r.factory, r.name) for r in self._routes]

    @property
    def mount_prefix(self) -> str:
        return self._mount_prefix or ""

    def add_route(
        self,
        path: str,
        resource: Callable[..., WebSocketResource],
        *,
        name: str | None = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Register ``resource`` (a class or any callable returning one) at ``path``."""
        if not callable(resource):
            raise TypeError("resource must be callable")
        path = normalize_path(path)
        matcher = RouteMatcher(path)
        if any(r.matcher.template == matcher.template for r in self._routes):
            raise ValueError(f"route path {path!r} already registered")
        if name is not None and name in self._names:
            raise ValueError(f"route name {name!r} already registered")
        route = _Route(path, matcher, functools.partial(resource, *args, **(kwargs or {})), name)
        self._routes.append(route)
        if name is not None:
            self._names[name] = route

    def mount(self, prefix: str, *, app: Any = None) -> None:
        """Fix the router's prefix; with ``app``, also serve ``prefix`` and below on it.

        ``router.mount("/ws", app=app)`` is the one-line mounting: it adds a
        WebSocket sink for ``/ws`` and every path under it (HTTP requests
        there get 426 Upgrade Required).
        """
        if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
            raise ValueError("prefix must be empty or start with '/'")
        if self._mount_prefix is not None:
            raise RuntimeError(f"router already mounted at {self._mount_prefix or '/'!r}")
        self._mount_prefix = prefix.rstrip("/")
        if app is not None:
            pattern = re.compile("^" + re.escape(self._mount_prefix) + "(?=/|$)")
            app.add_sink(self._sink, prefix=pattern)

    def url_for(self, name: str, **params: Any) -> str:
        """The named route's path with ``params`` filled in (without the mount prefix)."""
        try:
            route = self._names[name]
        except KeyError:
            raise KeyError(f"no route registered with name {name!r}") from None
        try:
            return normalize_path(_PARAM.sub(lambda m: str(params[m.group(1)]), route.path))
        except KeyError as exc:
            raise KeyError(f"missing parameter {exc.args[0]!r} for route {name!r}") from None

    # -- serving -------------------------------------------------------------------

    async def _sink(self, req: Any, resp: Any, ws: Any = None, **params: Any) -> None:
        if ws is None:
            raise falcon.HTTPError(
                falcon.HTTP_426,
                title="Upgrade Required",
                description="this path serves WebSocket connections only",
                headers={"Upgrade": "websocket"},
            )
        await self.on_websocket(req, ws)

    def _prefix_for(self, req: Any) -> str:
        if self._mount_prefix is not None:
            return self._mount_prefix
        template = getattr(req, "uri_template", None) or getattr(req, "path_template", None)
        if not template:
            return ""
        cut = template.find("/{")
        return canonical_path(template if cut < 0 else template[:cut]).rstrip("/")

    async def on_websocket(self, req: Any, ws: Any, **_params: Any) -> None:
        """Falcon responder: resolve the path, then run the connection to its end."""
        path = req.path
        prefix = self._prefix_for(req)
        if prefix:
            if not (path == prefix or path.startswith(prefix + "/")):
                raise falcon.HTTPNotFound()
            path = path[len(prefix) :] or "/"
        resolved = self._resolve(path)
        if resolved is None:
            raise falcon.HTTPNotFound()
        chain, params = resolved
        context = getattr(req, "context", None)
        manager: WebSocketConnectionManager | None = getattr(context, "ws_connection_manager", None)
        await serve_connection(
            chain, req, ws, params, global_hooks=self.global_hooks, manager=manager
        )

    def _build(self, factory: Callable[..., Any]) -> WebSocketResource:
        if self.resource_factory is not None:
            return self.resource_factory(factory)  # type: ignore[no-any-return]
        return factory()  # type: ignore[no-any-return]

    def _resolve(self, path: str) -> tuple[list[WebSocketResource], dict[str, Any]] | None:
        """First route (registration order) whose template, plus subroutes, covers ``path``."""
        for route in self._routes:
            params = route.matcher.match(path)
            if params is not None:
                return [self._build(route.factory)], params
            for prefix_params, rest in route.matcher.match_prefixes(path):
                parent = self._build(route.factory)
                found = self._descend(parent, rest)
                if found is not None:
                    chain, sub_params = found
                    return [parent, *chain], {**prefix_params, **sub_params}
        return None

    def _descend(
        self, parent: WebSocketResource, path: str, depth: int = 1
    ) -> tuple[list[WebSocketResource], dict[str, Any]] | None:
        """Resolve ``path`` below ``parent`` through its subroutes, ``MAX_NESTING`` deep."""
        if depth > MAX_NESTING:
            return None
        for matcher, factory in parent.subroutes:
            params = matcher.match(path)
            if params is not None:
                return [self._child(parent, factory)], params
            for prefix_params, rest in matcher.match_prefixes(path):
                child = self._child(parent, factory)
                found = self._descend(child, rest, depth + 1)
                if found is not None:
                    chain, sub_params = found
                    return [child, *chain], {**prefix_params, **sub_params}
        return None

    def _child(self, parent: WebSocketResource, factory: Callable[..., Any]) -> WebSocketResource:
        """Build a child with the parent's context; it shares the parent's state."""
        context = dict(parent.get_child_context())
        state = context.pop("state", parent.state)
        child = self._build(functools.partial(factory, **context))
        child.state = state
        return child

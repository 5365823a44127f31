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
import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import falcon

from ._connection import NOT_FOUND_CLOSE, can_deny, close_unaccepted, deny, serve_connection
from ._router_compat import ResourceFactory, SimulatorFactory, compile_uri_template
from ._templates import RouteMatcher, canonical_path, normalize_path
from .hooks import HookCollection
from .protocols import receives_frames

if TYPE_CHECKING:
    from .manager import WebSocketConnectionManager
    from .resource import WebSocketResource

__all__ = ["ResourceFactory", "SimulatorFactory", "WebSocketRouter", "compile_uri_template"]

_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")
MAX_NESTING = 32
log = logging.getLogger("falcon_pachinko.connection")


def check_on_connect(resource: Any, path: str) -> None:
    """Refuse a route whose parameters the resource's ``on_connect`` cannot take.

    ``on_connect(req, ws, **params)`` receives every template field by
    name; a field it has no parameter for (and no ``**kwargs``), or a
    parameter without a default that no field fills, would fail with a
    ``TypeError`` on every connection. Only classes are checked: a factory's
    product is unknown until it is called.
    """
    from .resource import WebSocketResource

    if not (isinstance(resource, type) and issubclass(resource, WebSocketResource)):
        return
    fields = _PARAM.findall(path)
    try:
        signature = inspect.signature(resource.on_connect)
    except (TypeError, ValueError):  # pragma: no cover - builtins or C callables
        return
    params = list(signature.parameters.values())[3:]  # self, req, ws
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        takes = None
    else:
        by_name = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        takes = {p.name for p in params if p.kind in by_name}
    owner = f"{resource.__qualname__}.on_connect"
    for field in fields:
        if takes is not None and field not in takes:
            raise TypeError(
                f"route {path!r}: {owner} cannot receive path parameter {field!r}; "
                f"add a parameter {field!r} (or **params) to it"
            )
    for p in params:
        if (
            p.default is inspect.Parameter.empty
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
            and p.name not in fields
        ):
            raise TypeError(
                f"route {path!r}: {owner} requires parameter {p.name!r}, "
                "which the route template does not provide"
            )


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
        ``simulator_factory(req, ws)`` returns (or returns an awaitable of)
        the socket to serve in place of ``ws`` (published; test doubles).
        The router then only does the handshake, as the published one did.
    receive_loop:
        ``None`` (default): run the receive loop unless the router has a
        ``simulator_factory`` or the socket is not Falcon's and has no
        method that receives frames (``receive``, ``receive_text``,
        ``receive_data``, ``receive_bytes``); then only the handshake is
        done (accept or close) and the responder returns. ``True`` or
        ``False`` force either.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        resource_factory: ResourceFactory | None = None,
        simulator_factory: SimulatorFactory | None = None,
        receive_loop: bool | None = None,
    ) -> None:
        if receive_loop not in (None, True, False):
            raise TypeError("receive_loop must be None, True or False")
        self.name = name
        self.resource_factory = resource_factory
        self.simulator_factory = simulator_factory
        self.receive_loop = receive_loop
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
        check_on_connect(resource, path)
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
        """The prefix this request was routed under.

        Mounted: the mount prefix, and a ``req`` whose template (Falcon's
        ``uri_template``, or a duck-typed ``path_template``) is not under it
        was not meant for this router: ``HTTPNotFound`` (published).
        Unmounted: learnt from the template (``/ws/{path:path}`` -> ``/ws``).
        """
        template = getattr(req, "path_template", None) or getattr(req, "uri_template", None)
        static = ""
        if isinstance(template, str) and template:
            cut = template.find("/{")
            static = canonical_path(template if cut < 0 else template[:cut]).rstrip("/")
        if self._mount_prefix is None:
            return static
        prefix = self._mount_prefix
        if static and not (static == prefix or static.startswith(prefix + "/")):
            raise falcon.HTTPNotFound(
                description=f"path_template {template!r} does not match router mount "
                f"{prefix or '/'!r}"
            )
        return prefix

    async def on_websocket(self, req: Any, ws: Any, **_params: Any) -> None:
        """Falcon responder: resolve the path, then run the connection to its end.

        No route: the client gets HTTP 404 where the server supports the
        denial-response extension; otherwise ``falcon.HTTPNotFound`` is
        raised (Falcon closes with 3404, and the server answers 403). A
        resource factory or constructor that raises closes the socket once
        (``ws.close()``) and the exception propagates.
        """
        path = req.path
        prefix = self._prefix_for(req)
        if self.simulator_factory is not None:
            made = self.simulator_factory(req, ws)
            ws = await made if inspect.isawaitable(made) else made
        resolved = None
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            try:
                resolved = self._resolve(path[len(prefix) :] or "/")
            except BaseException:
                await close_unaccepted(ws)
                raise
        if resolved is None:
            log.debug("connection rejected: no route for path=%s", path)
            if can_deny(req, ws):
                await deny(req, ws, 404, NOT_FOUND_CLOSE)
                return
            raise falcon.HTTPNotFound()
        chain, params = resolved
        context = getattr(req, "context", None)
        manager: WebSocketConnectionManager | None = getattr(context, "ws_connection_manager", None)
        await serve_connection(
            chain,
            req,
            ws,
            params,
            global_hooks=self.global_hooks,
            manager=manager,
            receive_loop=self._loops(ws),
        )

    def _loops(self, ws: Any) -> bool:
        """Whether to run the receive loop on ``ws`` (see ``receive_loop``)."""
        if self.receive_loop is not None:
            return self.receive_loop
        return self.simulator_factory is None and receives_frames(ws)

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
        for matcher, factory in parent.__dict__.get("_subroutes", ()):
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

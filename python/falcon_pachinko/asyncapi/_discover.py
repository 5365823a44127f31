"""Find the routers of a Falcon app, and the channels and messages they serve.

Nothing here connects or runs user lifecycle code: routes are read from the
routers, handlers from the resource classes. Only nested subroutes need an
instance (``add_subroute`` is called in ``__init__``), so each route's
resource is constructed once with the arguments the router would give it; a
constructor that fails is reported as an :class:`AsyncAPIWarning` and its
subroutes are left out (the route itself is still documented from its class).
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .._dispatch import RESERVED
from .._templates import canonical_path
from ..handlers import MARK, HandlerInfo, inspect_handler, snake_case
from ..resource import WebSocketResource
from ..router import MAX_NESTING, WebSocketRouter

__all__ = [
    "AsyncAPIWarning",
    "ChannelSpec",
    "MessageSpec",
    "channels_of",
    "find_routers",
]

_BAD_KEY = re.compile(r"[^\w.\-]+")


class AsyncAPIWarning(UserWarning):
    """Something in the app could not be documented (the document is still valid)."""


@dataclass(slots=True)
class MessageSpec:
    """One message a channel receives (a handler) or sends (a ``sends`` entry).

    ``fmt`` is ``"envelope"`` (``{"type": tag, "payload": ...}``) or
    ``"flat"`` (the payload type is the whole frame: schema format, sends).
    """

    name: str
    payload_type: Any
    fmt: str
    summary: str | None = None
    title: str | None = None
    strict: bool = True
    key: str = ""
    handle: int | None = None


@dataclass(slots=True)
class ChannelSpec:
    """One route template (with the mount prefix) and its resource's messages."""

    key: str
    template: str
    resource: type[WebSocketResource] | None
    receives: list[MessageSpec] = field(default_factory=list)
    sends: list[MessageSpec] = field(default_factory=list)


def _warn(message: str) -> None:
    warnings.warn(message, AsyncAPIWarning, stacklevel=3)


def sanitize_key(text: str, taken: set[str], fallback: str) -> str:
    """A key matching AsyncAPI's ``^[\\w\\d\\.\\-_]+$``, unique within ``taken``."""
    base = _BAD_KEY.sub("_", text.replace("{", "").replace("}", "")).strip("_") or fallback
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


# -- routers -----------------------------------------------------------------------


def _prefix_from_template(router: WebSocketRouter, template: str) -> str:
    """The prefix a router added with ``app.add_route(template, router)`` serves.

    NOTE(asyncapi): mirrors ``WebSocketRouter._prefix_for``: an explicit mount
    wins (``mount("")`` is the legacy router, whose templates are full paths);
    otherwise the template up to its first field is the prefix. ``mount_prefix``
    alone cannot tell "mounted at ''" from "not mounted", hence the private read.
    """
    mounted = getattr(router, "_mount_prefix", None)
    if isinstance(mounted, str):
        return mounted
    cut = template.find("/{")
    return canonical_path(template if cut < 0 else template[:cut]).rstrip("/")


def _route_nodes(nodes: Iterable[Any]) -> Iterator[Any]:
    for node in nodes:
        yield node
        yield from _route_nodes(getattr(node, "children", ()))


def find_routers(app: Any) -> list[tuple[WebSocketRouter, str]]:
    """``(router, prefix)`` for every WebSocketRouter mounted on a Falcon app.

    Found as sinks (``router.mount(prefix, app=app)``) and as route
    resources (``app.add_route("/ws/{path:path}", router)``), in
    registration order, each router once. Falcon exposes neither list
    publicly (``falcon.inspect`` returns names, not objects), so this reads
    ``app._sinks`` and the default router's node tree; an app with a custom
    router contributes its sinks only.
    """
    found: dict[int, tuple[WebSocketRouter, str]] = {}
    # Falcon inserts each sink at the front: reversed is registration order.
    for _pattern, sink, *_rest in reversed(list(getattr(app, "_sinks", ()))):
        owner = getattr(sink, "__self__", sink)
        if isinstance(owner, WebSocketRouter) and id(owner) not in found:
            found[id(owner)] = (owner, owner.mount_prefix)
    roots = getattr(getattr(app, "_router", None), "_roots", ())
    for node in _route_nodes(roots):
        resource, template = getattr(node, "resource", None), getattr(node, "uri_template", None)
        if (
            isinstance(resource, WebSocketRouter)
            and isinstance(template, str)
            and id(resource) not in found
        ):
            found[id(resource)] = (resource, _prefix_from_template(resource, template))
    return list(found.values())


# -- resources and their messages ----------------------------------------------------


def _first_line(obj: Any) -> str | None:
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    return inspect.cleandoc(doc).split("\n\n", 1)[0].replace("\n", " ")


def _conventions(cls: type) -> dict[str, HandlerInfo]:
    """``on_<name>`` handlers, collected as ``Dispatcher.build`` does."""
    found: dict[str, HandlerInfo] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if (
                getattr(value, MARK, None) is None
                and name.startswith("on_")
                and name not in RESERVED
                and inspect.iscoroutinefunction(value)
            ):
                try:
                    found[name[3:]] = inspect_handler(name[3:], value, strict=True)
                except TypeError:
                    continue
    return found


def _schema_members(schema: Any) -> dict[str, Any]:
    """tag -> Struct of a schema-format resource's tagged union (as dispatch reads it)."""
    members = (
        typing.get_args(schema)
        if typing.get_origin(schema) in (typing.Union, types.UnionType)
        else (schema,)
    )
    out: dict[str, Any] = {}
    for member in members:
        config = getattr(member, "__struct_config__", None)
        if config is not None and isinstance(config.tag, str):
            out[config.tag] = member
    return out


def received_messages(cls: type[WebSocketResource]) -> list[MessageSpec]:
    """What the resource's handlers accept, in the resource's wire format."""
    handlers: dict[str, HandlerInfo] = dict(getattr(cls, "handlers", {}) or {})
    known = {info.fn for info in handlers.values()}
    conventions = {k: v for k, v in _conventions(cls).items() if v.fn not in known}
    schema = getattr(cls, "schema", None)
    if schema is None:
        infos = [*handlers.values(), *(c for t, c in conventions.items() if t not in handlers)]
        return [
            MessageSpec(i.tag, i.payload_type, "envelope", _first_line(i.fn), strict=i.strict)
            for i in infos
        ]
    out = []
    for tag, member in _schema_members(schema).items():
        chosen = (
            next((i for i in handlers.values() if i.payload_type is member), None)
            or handlers.get(tag)
            or conventions.get(snake_case(tag))
        )
        if chosen is not None:
            out.append(
                MessageSpec(tag, member, "flat", _first_line(chosen.fn), title=member.__name__)
            )
    return out


def _members(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def sent_messages(cls: type[WebSocketResource]) -> list[MessageSpec]:
    """The resource's ``sends`` declaration: msgspec types of the frames it sends."""
    declared = getattr(cls, "sends", ())
    if not isinstance(declared, tuple | list):
        declared = (declared,)
    out = []
    for entry in declared:
        for tp in _members(entry):
            config = getattr(tp, "__struct_config__", None)
            tag = getattr(config, "tag", None)
            name = tag if isinstance(tag, str) else getattr(tp, "__name__", repr(tp))
            title = getattr(tp, "__name__", None)
            out.append(MessageSpec(name, tp, "flat", _first_line(tp), title=title))
    return out


# -- walking routes and subroutes ----------------------------------------------------


def _class_of(factory: Callable[..., Any]) -> type[WebSocketResource] | None:
    target = factory.func if isinstance(factory, functools.partial) else factory
    if isinstance(target, type) and issubclass(target, WebSocketResource):
        return target
    return None


def _construct(
    router: WebSocketRouter, factory: Callable[..., Any], where: str
) -> WebSocketResource | None:
    """Build a resource the way the router would, or warn and return ``None``."""
    try:
        built = router.resource_factory(factory) if router.resource_factory else factory()
    except Exception as exc:  # noqa: BLE001 - user constructors may raise anything
        _warn(
            f"{where}: constructing the resource failed ({type(exc).__name__}: {exc}); "
            "its nested subroutes are not documented"
        )
        return None
    return built if isinstance(built, WebSocketResource) else None


def _join(address: str, template: str) -> str:
    if template == "/":
        return address or "/"
    return (address.rstrip("/") + template) if address else template


def channels_of(router: WebSocketRouter, prefix: str) -> list[tuple[str, str | None, Any]]:
    """``(template, route name, resource class or None)`` for every route and
    nested subroute of ``router``, with ``prefix`` in front.
    """
    out: list[tuple[str, str | None, Any]] = []
    for path, factory, name in router.routes:
        template = _join(prefix, path)
        instance = _construct(router, factory, template)
        cls = type(instance) if instance is not None else _class_of(factory)
        out.append((template, name, cls))
        if instance is not None:
            _descend(router, instance, template, (type(instance),), out)
    return out


def _descend(
    router: WebSocketRouter,
    parent: WebSocketResource,
    address: str,
    lineage: tuple[type, ...],
    out: list[tuple[str, str | None, Any]],
) -> None:
    if len(lineage) > MAX_NESTING:
        _warn(f"{address}: subroutes nested deeper than {MAX_NESTING} are not documented")
        return
    subroutes = parent.subroutes
    if not subroutes:
        return
    try:
        context = dict(parent.get_child_context())
    except Exception as exc:  # noqa: BLE001 - user code
        _warn(f"{address}: get_child_context() failed ({type(exc).__name__}: {exc})")
        return
    context.pop("state", None)
    for matcher, factory in subroutes:
        template = _join(address, matcher.template)
        child_factory = functools.partial(factory, **context)
        cls = _class_of(factory)
        if cls is not None and cls in lineage:
            out.append((template, None, cls))
            _warn(f"{template}: {cls.__name__} nests itself; documented one level deep")
            continue
        child = _construct(router, child_factory, template)
        out.append((template, None, type(child) if child is not None else cls))
        if child is not None:
            _descend(router, child, template, (*lineage, type(child)), out)

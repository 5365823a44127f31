"""Dependency injection: build resources from registered services.

``ServiceContainer.create_resource`` is a ready-made ``resource_factory``
for ``WebSocketRouter``: it fills constructor parameters by name from the
registered services. Signatures are inspected once per class and cached.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any, Protocol

from .exceptions import ServiceNotFoundError

__all__ = ["ResourceFactory", "ServiceContainer"]


class ResourceFactory(Protocol):
    """``callable(route_partial) -> resource``; the router's ``resource_factory``."""

    def __call__(self, route_factory: Callable[..., Any], /) -> Any: ...


class ServiceContainer:
    """Named services, injected into resource constructors by parameter name."""

    def __init__(self) -> None:
        self._services: dict[str, Any] = {}
        self._params: dict[Any, tuple[str, ...]] = {}

    def register(self, name: str, value: Any) -> None:
        self._services[name] = value

    def resolve(self, name: str) -> Any:
        try:
            return self._services[name]
        except KeyError:
            raise ServiceNotFoundError(name) from None

    def _parameters(self, target: Any) -> tuple[str, ...]:
        try:
            return self._params[target]
        except (KeyError, TypeError):
            pass
        try:
            sig = inspect.signature(target)
        except (TypeError, ValueError):
            names: tuple[str, ...] = ()
        else:
            names = tuple(
                p.name
                for p in sig.parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            )
        with contextlib.suppress(TypeError):  # unhashable target: not cached
            self._params[target] = names
        return names

    def create_resource(self, route_factory: Callable[..., Any]) -> Any:
        """Call the route's factory, adding registered services its constructor
        names (explicit route ``args``/``kwargs`` win).
        """
        func, given = route_factory, {}
        if isinstance(route_factory, functools.partial):
            func, given = route_factory.func, dict(route_factory.keywords)
        injected = {
            name: self._services[name]
            for name in self._parameters(func)
            if name in self._services and name not in given
        }
        return route_factory(**injected)

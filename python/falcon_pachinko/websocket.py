"""Names the ``falcon_pachinko.websocket`` module path is expected to hold.

Kept for code written against the published design: the connection manager,
its backends, ``install``, ``RouteSpec`` and the exceptions the published
``install``/``add_websocket_route``/``create_websocket_resource`` raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .app import connection_manager, install
from .backends import ConnectionBackend, InProcessBackend
from .exceptions import (
    InvalidWebSocketRoutePathError,
    PartialWebSocketInstallError,
    WebSocketConnectionNotFoundError,
    WebSocketResourceNotFoundError,
)
from .manager import WebSocketConnectionManager

__all__ = [
    "ConnectionBackend",
    "InProcessBackend",
    "InvalidWebSocketRoutePathError",
    "PartialWebSocketInstallError",
    "RouteSpec",
    "WebSocketConnectionManager",
    "WebSocketConnectionNotFoundError",
    "WebSocketResourceNotFoundError",
    "connection_manager",
    "install",
]


def _kwargs() -> dict[str, Any]:
    return {}


@dataclass(slots=True)
class RouteSpec:
    """A route as registered: resource class plus constructor arguments.

    Mutable, as published (``dataclass(slots=True)``).
    """

    resource_cls: type
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=_kwargs)

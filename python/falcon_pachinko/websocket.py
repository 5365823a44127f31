"""Names the ``falcon_pachinko.websocket`` module path is expected to hold.

Kept for code written against the published design: the connection manager,
its backends, ``install`` and ``RouteSpec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .app import connection_manager, install
from .backends import ConnectionBackend, InProcessBackend
from .exceptions import WebSocketConnectionNotFoundError
from .manager import WebSocketConnectionManager

__all__ = [
    "ConnectionBackend",
    "InProcessBackend",
    "RouteSpec",
    "WebSocketConnectionManager",
    "WebSocketConnectionNotFoundError",
    "connection_manager",
    "install",
]


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A route as registered: resource class plus constructor arguments."""

    resource_cls: type
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

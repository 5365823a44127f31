"""``ConnectionBackend``: the membership contract every backend keeps.

A backend owns which connections exist and which rooms/users they belong
to. Each process also keeps its local connections in a ``FanoutHub`` (given
by the manager through ``bind_hub``) because delivery to a socket is always
local; a distributed backend adds the cross-process part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._pure import FanoutHub

__all__ = ["ConnectionBackend"]


class ConnectionBackend(ABC):
    """Abstract membership store used by ``WebSocketConnectionManager``."""

    _hub: FanoutHub | None = None

    def bind_hub(self, hub: FanoutHub) -> None:
        """Receive the manager's local fan-out hub (called once, by the manager)."""
        if self._hub is not None and self._hub is not hub:
            raise RuntimeError("backend is already bound to another connection manager")
        self._hub = hub

    @property
    def hub(self) -> FanoutHub:
        if self._hub is None:
            raise RuntimeError("backend is not bound to a WebSocketConnectionManager")
        return self._hub

    @property
    @abstractmethod
    def websockets(self) -> Mapping[str, Any]:
        """Read-only mapping: connection id -> WebSocket (local connections)."""

    @property
    @abstractmethod
    def rooms(self) -> Mapping[str, frozenset[str]]:
        """Read-only mapping: room -> ids of its members."""

    @abstractmethod
    async def add_connection(self, conn_id: str, ws: Any) -> None:
        """Register a connection (``ValueError`` "Duplicate connection ID" if known)."""

    @abstractmethod
    async def remove_connection(self, conn_id: str) -> None:
        """Forget a connection and its memberships (idempotent)."""

    @abstractmethod
    async def join_room(self, conn_id: str, room: str) -> None:
        """Add to a room (``WebSocketConnectionNotFoundError`` for unknown ids)."""

    @abstractmethod
    async def leave_room(self, conn_id: str, room: str) -> None:
        """Remove from a room (unknown ids raise, unknown rooms are a no-op)."""

    @abstractmethod
    async def get_websocket(self, conn_id: str) -> Any:
        """The WebSocket of a local connection (``WebSocketConnectionNotFoundError``)."""

    @abstractmethod
    async def snapshot(self, room: str | None = None) -> frozenset[str]:
        """Ids of a room's members (or of every connection) at this instant."""

    async def start(self) -> None:  # noqa: B027 - optional lifecycle hook
        """Connect to external services (called from the app's lifespan startup)."""

    async def stop(self) -> None:  # noqa: B027 - optional lifecycle hook
        """Disconnect from external services (lifespan shutdown)."""

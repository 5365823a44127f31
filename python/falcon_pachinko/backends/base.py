"""``ConnectionBackend``: the membership contract every backend keeps.

Who owns what: the manager owns local delivery and the one record of each
local connection; the native ``FanoutHub`` (given to the backend through
``bind_hub``) is the local index of rooms and users; the backend owns
membership as the application sees it and, for a distributed backend, the
bus to other processes.

The abstract methods are the published membership contract (custom
backends written against it keep working). The bus half is optional: a
backend that sets ``distributed = True`` keeps local rooms in the hub (so
local fan-out is one hub call), is told the manager's node id and local
delivery callback through :meth:`attach`, and receives every delivery the
manager made locally through :meth:`publish` so that other nodes repeat
it. The in-process backend is the no-op bus of that contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .._pure import FanoutHub

__all__ = ["ConnectionBackend", "DeliverFn"]

#: The manager's local delivery of a frame that came over the bus:
#: ``(kind, target, exclude, event)`` with kind ``room|all|user|conn``.
DeliverFn = Callable[[str, str, Collection[str], dict[str, Any]], Awaitable[None]]


class ConnectionBackend(ABC):
    """Abstract membership store used by ``WebSocketConnectionManager``."""

    _hub: FanoutHub | None = None

    #: True for a backend that spans processes (it implements the bus half).
    distributed: ClassVar[bool] = False

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

    # -- the bus half (no-ops unless ``distributed``) ---------------------------

    def attach(self, node: str, deliver: DeliverFn) -> None:  # noqa: B027 - optional
        """The manager's node id and local delivery, for frames from other nodes."""

    def publish(
        self, kind: str, target: str, exclude: Collection[str] | None, event: dict[str, Any]
    ) -> bool:
        """Repeat a delivery on the other nodes (the local one is done already).

        Non-blocking: queued for the bus, never awaited by the sender. Returns
        False when there is no such node (``conn`` to an unknown id).
        """
        return kind != "conn"

    async def set_user(self, conn_id: str, user_id: str | None) -> None:  # noqa: B027
        """A local connection's user changed (presence for distributed backends)."""

    def user_members(self, user_id: str) -> list[str]:
        """Ids of a user's connections, cluster-wide (distributed backends)."""
        return self.hub.user_members(user_id)

    def bus_stats(self) -> dict[str, Any]:
        """Counters of the bus (empty for a backend without one)."""
        return {}

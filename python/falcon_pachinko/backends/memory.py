"""``InProcessBackend``: membership in this process, kept by the fan-out hub.

The manager registers each connection in the hub itself (it owns local
delivery); this backend keeps the sockets by id and the rooms in the hub,
so a room broadcast is a single hub call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from ..exceptions import WebSocketConnectionNotFoundError
from .base import ConnectionBackend

__all__ = ["InProcessBackend"]


class _RoomsView(Mapping[str, frozenset[str]]):
    """Live read-only view of the hub's rooms (computed on access, not stored)."""

    __slots__ = ("_backend",)

    def __init__(self, backend: InProcessBackend) -> None:
        self._backend = backend

    def __getitem__(self, room: str) -> frozenset[str]:
        members = self._backend.hub.members(room)
        if not members:
            raise KeyError(room)
        return frozenset(members)

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.hub.rooms())

    def __len__(self) -> int:
        return len(self._backend.hub.rooms())


class InProcessBackend(ConnectionBackend):
    """The default backend: one process, no external services."""

    def __init__(self) -> None:
        self._websockets: dict[str, Any] = {}
        self._view = MappingProxyType(self._websockets)
        self._rooms = _RoomsView(self)

    @property
    def websockets(self) -> Mapping[str, Any]:
        return self._view

    @property
    def rooms(self) -> Mapping[str, frozenset[str]]:
        return self._rooms

    async def add_connection(self, conn_id: str, ws: Any) -> None:
        if conn_id in self._websockets:
            raise ValueError(f"Duplicate connection ID: {conn_id}")
        self._websockets[conn_id] = ws

    async def remove_connection(self, conn_id: str) -> None:
        self._websockets.pop(conn_id, None)

    async def join_room(self, conn_id: str, room: str) -> None:
        self.hub.join(conn_id, room)

    async def leave_room(self, conn_id: str, room: str) -> None:
        self.hub.leave(conn_id, room)

    async def get_websocket(self, conn_id: str) -> Any:
        try:
            return self._websockets[conn_id]
        except KeyError:
            raise WebSocketConnectionNotFoundError(conn_id) from None

    async def snapshot(self, room: str | None = None) -> frozenset[str]:
        if room is None:
            return frozenset(self._websockets)
        return frozenset(self.hub.members(room))

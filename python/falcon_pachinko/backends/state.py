"""``RedisState``: a resource's per-connection ``state`` kept in a Redis hash.

The node that holds the connection is the only writer, so reads are served
from a local copy (no round trip in a handler) and each write is queued on
the backend's ordered bus (pipelined with everything else, never awaited).
Other nodes read it with ``await backend.read_state(conn_id)``. The hash is
deleted when the connection is removed; if the node dies, the key expires
with the node's presence TTL (refreshed by its heartbeat).

Values must be JSON-encodable (msgspec); a value that is not raises
``TypeError`` at assignment, not later on the bus.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from .redis import RedisBackend

__all__ = ["RedisState"]

_encode = msgspec.json.Encoder().encode


class RedisState(MutableMapping[str, Any]):
    """Dict-like state of one connection, mirrored to ``<prefix>:state:<id>``.

    Obtain it with ``backend.state_for(conn_id)``, e.g. in ``on_connect``:
    ``self.state = manager.backend.state_for(self.connection_id)``.
    """

    __slots__ = ("_backend", "_conn_id", "_data")

    def __init__(self, backend: RedisBackend, conn_id: str) -> None:
        self._backend = backend
        self._conn_id = conn_id
        self._data: dict[str, Any] = {}

    @property
    def conn_id(self) -> str:
        return self._conn_id

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"state keys must be str, not {type(key).__name__}")
        try:
            encoded = _encode(value)
        except (TypeError, msgspec.EncodeError) as exc:
            raise TypeError(f"state value for {key!r} is not JSON-encodable: {exc}") from None
        self._data[key] = value
        self._backend.write_state(self._conn_id, key, encoded)

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._backend.write_state(self._conn_id, key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"RedisState({self._conn_id!r}, {self._data!r})"

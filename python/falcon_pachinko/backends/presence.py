"""Cluster presence: this node's mirror of every other node's connections.

Every node keeps its own connections (user, rooms) in a Redis hash
``<prefix>:presence:<node>`` that expires unless its heartbeat refreshes
it, and announces each change on the bus as a :class:`Change` with a
sequence number. :class:`Presence` holds the other nodes' connections in
memory (loaded from the hashes on each (re)subscription, then kept current
by the announcements, stale ones ignored), so the manager's presence
queries stay synchronous and cluster-wide. A node silent for ``ttl``
seconds drops out of every query at once and out of memory at the next
:meth:`Presence.expire`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec

__all__ = ["SEQ_FIELD", "Change", "ClusterRooms", "Presence", "Record"]

log = logging.getLogger("falcon_pachinko.redis")

#: The presence-hash field holding the node's last sequence number.
SEQ_FIELD = "#seq"


class Record(msgspec.Struct, array_like=True, frozen=True):
    """One connection in a presence hash: its user and rooms."""

    user: str | None
    rooms: list[str]


class Change(msgspec.Struct, array_like=True, frozen=True):
    """A presence announcement: ``op`` is set, del, hb (heartbeat), bye, or
    snap (the node's whole state, sent after it rewrote its hash).
    """

    seq: int
    op: str
    conn: str = ""
    user: str | None = None
    rooms: list[str] = []
    snap: dict[str, Record] = {}


encode = msgspec.msgpack.Encoder().encode
decode_change = msgspec.msgpack.Decoder(Change).decode
_decode_record = msgspec.msgpack.Decoder(Record).decode


class _Node:
    """The mirror of another node's connections."""

    __slots__ = ("conns", "seen", "seq")

    def __init__(self) -> None:
        self.conns: dict[str, tuple[str | None, frozenset[str]]] = {}
        self.seq = -1
        self.seen = time.monotonic()


class Presence:
    """The other nodes' connections, as last announced (see the module docstring)."""

    __slots__ = ("nodes", "ttl")

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.nodes: dict[str, _Node] = {}

    def live(self) -> list[_Node]:
        horizon = time.monotonic() - self.ttl
        return [n for n in self.nodes.values() if n.seen >= horizon]

    def live_names(self) -> list[str]:
        horizon = time.monotonic() - self.ttl
        return [k for k, n in self.nodes.items() if n.seen >= horizon]

    def expire(self) -> None:
        """Forget nodes that missed their heartbeats for ``ttl`` seconds."""
        horizon = time.monotonic() - self.ttl
        for name in [k for k, n in self.nodes.items() if n.seen < horizon]:
            log.info("node %s missed its heartbeat for %.1fs: removed", name, self.ttl)
            del self.nodes[name]

    # -- queries (other nodes only; the backend adds its own hub) -----------------

    def ids(self) -> set[str]:
        ids: set[str] = set()
        for node in self.live():
            ids.update(node.conns)
        return ids

    def room_members(self, room: str) -> list[str]:
        return [c for n in self.live() for c, (_u, rooms) in n.conns.items() if room in rooms]

    def room_names(self) -> set[str]:
        names: set[str] = set()
        for node in self.live():
            for _u, rooms in node.conns.values():
                names.update(rooms)
        return names

    def user_members(self, user_id: str) -> list[str]:
        return [c for n in self.live() for c, (u, _r) in n.conns.items() if u == user_id]

    def owner_of(self, conn_id: str) -> str | None:
        horizon = time.monotonic() - self.ttl
        for name, node in self.nodes.items():
            if conn_id in node.conns and node.seen >= horizon:
                return name
        return None

    # -- updates ------------------------------------------------------------------

    def apply(self, origin: str, change: Change) -> None:
        """One announcement from ``origin``; older sequence numbers are ignored."""
        if change.op == "bye":
            self.nodes.pop(origin, None)
            return
        node = self.nodes.get(origin)
        if node is None:
            node = self.nodes[origin] = _Node()
        node.seen = time.monotonic()
        if change.op == "snap" and change.seq >= node.seq:
            node.seq = change.seq
            node.conns = {c: (r.user, frozenset(r.rooms)) for c, r in change.snap.items()}
            return
        if change.op == "hb" or change.seq <= node.seq:
            return
        node.seq = change.seq
        if change.op == "set":
            node.conns[change.conn] = (change.user, frozenset(change.rooms))
        elif change.op == "del":
            node.conns.pop(change.conn, None)

    async def load(
        self, client: Any, pattern: str, mine: str, rejected: Callable[[], None]
    ) -> None:
        """Replace the mirrors with the presence hashes now in Redis (keys
        matching ``pattern`` except ``mine``); a field that does not decode
        calls ``rejected`` and is skipped.
        """
        seen: dict[str, _Node] = {}
        async for key in client.scan_iter(match=pattern, count=500):
            name = key.decode() if isinstance(key, bytes) else key
            if name == mine:
                continue
            fields = await client.hgetall(name)
            node = _Node()
            for field, value in fields.items():
                f = field.decode() if isinstance(field, bytes) else field
                try:
                    if f == SEQ_FIELD:
                        node.seq = int(value)
                    else:
                        record = _decode_record(value)
                        node.conns[f] = (record.user, frozenset(record.rooms))
                except (ValueError, msgspec.DecodeError):
                    rejected()
            node_id = name.rsplit(":", 1)[-1]
            current = self.nodes.get(node_id)
            seen[node_id] = current if current is not None and current.seq > node.seq else node
        self.nodes = seen


class ClusterRooms(Mapping[str, frozenset[str]]):
    """Live read-only view: room -> member ids on every node."""

    __slots__ = ("_members", "_names")

    def __init__(self, members: Callable[[str], list[str]], names: Callable[[], list[str]]) -> None:
        self._members = members
        self._names = names

    def __getitem__(self, room: str) -> frozenset[str]:
        members = self._members(room)
        if not members:
            raise KeyError(room)
        return frozenset(members)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

r"""Pure twin of ``src-rust/fanout.rs``: membership and outboxes (core).

The specification of the hub's state machine. Each connection is in exactly
one state; every operation names the transition it makes::

    add(pending=True) -> pending --activate()--> writing (frames were queued)
                                             or -> idle (nothing queued)
    add()             -> idle --start_writing()--> writing
                              <--next_frame() is None--
    any state --mark_closing() or the close policy--> closing (final)

Pending and writing connections queue frames (bounded, overflow policy);
idle ones ask for a direct write; closing ones drop and count. Ids, rooms
and user ids are taken as ``str`` here: ``_pure_hub`` (the binding's twin)
checks types at the boundary, as PyO3's conversions do for the Rust core.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from .exceptions import WebSocketConnectionNotFoundError

__all__ = ["DEFAULT_CAPACITY", "POLICIES", "STATES", "Conn", "Hub"]

#: Overflow policies, the default first (``Policy::ALL``).
POLICIES = ("drop_oldest", "drop_newest", "close")
#: Per-connection delivery states, in lifecycle order (``State::ALL``).
STATES = ("pending", "idle", "writing", "closing")
#: Outbox length when the caller does not choose one.
DEFAULT_CAPACITY = 256

# PERF: states are compared by identity (``is``) on the hot path; every
# assignment uses these very objects.
PENDING, IDLE, WRITING, CLOSING = STATES
#: Per-recipient decisions (``Delivery``).
DIRECT, QUEUED, DROPPED, CLOSE = "direct", "queued", "dropped", "close"


class Conn:
    """One connection's routing state."""

    __slots__ = ("conn_id", "dropped", "handle", "outbox", "rooms", "state", "user")

    def __init__(self, conn_id: str, handle: object, pending: bool) -> None:
        self.conn_id = conn_id
        #: What the binding writes through (the send callable).
        self.handle = handle
        self.outbox: deque[object] = deque()
        self.state = PENDING if pending else IDLE
        self.dropped = 0
        self.rooms: list[str] = []
        self.user: str | None = None


class Hub:
    """Membership index, per-connection states and bounded outboxes."""

    __slots__ = ("capacity", "conns", "dropped_total", "policy", "rooms", "users")

    def __init__(self, capacity: int, policy: str) -> None:
        self.capacity = capacity
        self.policy = policy
        self.conns: dict[str, Conn] = {}
        self.rooms: dict[str, dict[str, Conn]] = {}
        self.users: dict[str, dict[str, Conn]] = {}
        self.dropped_total = 0

    def get(self, conn_id: str) -> Conn:
        try:
            return self.conns[conn_id]
        except KeyError:
            raise WebSocketConnectionNotFoundError(conn_id) from None

    def add(self, conn_id: str, handle: object, pending: bool) -> None:
        """Register a connection, ``pending`` (frames queue until
        :meth:`activate`) or idle.
        """
        if conn_id in self.conns:
            raise ValueError(f"Duplicate connection ID: {conn_id}")
        self.conns[conn_id] = Conn(conn_id, handle, pending)

    def remove(self, conn_id: str) -> bool:
        """Forget a connection and every membership it had. Idempotent."""
        conn = self.conns.pop(conn_id, None)
        if conn is None:
            return False
        for room in conn.rooms:
            _unlink(self.rooms, room, conn_id)
        if conn.user is not None:
            _unlink(self.users, conn.user, conn_id)
        return True

    def join(self, conn_id: str, room: str) -> None:
        conn = self.get(conn_id)
        members = self.rooms.setdefault(room, {})
        if conn_id not in members:
            members[conn_id] = conn
            conn.rooms.append(room)

    def leave(self, conn_id: str, room: str) -> None:
        conn = self.get(conn_id)
        _unlink(self.rooms, room, conn_id)
        conn.rooms = [r for r in conn.rooms if r != room]

    def set_user(self, conn_id: str, user_id: str | None) -> None:
        conn = self.get(conn_id)
        if conn.user is not None:
            _unlink(self.users, conn.user, conn_id)
            conn.user = None
        if user_id is not None:
            self.users.setdefault(user_id, {})[conn_id] = conn
            conn.user = user_id

    def deliver(self, conn: Conn, frame: object) -> str:
        """One recipient's decision (``DIRECT``, ``QUEUED``, ``DROPPED`` or
        ``CLOSE``), applying the overflow policy to a queueing connection.
        """
        state = conn.state
        if state is IDLE:
            return DIRECT
        if state is CLOSING:
            conn.dropped += 1
            self.dropped_total += 1
            return DROPPED
        outbox = conn.outbox
        if len(outbox) < self.capacity:
            outbox.append(frame)
            return QUEUED
        policy = self.policy
        if policy == "drop_newest":
            conn.dropped += 1
            self.dropped_total += 1
            return DROPPED
        if policy == "drop_oldest":
            conn.dropped += 1
            self.dropped_total += 1
            outbox.popleft()
            outbox.append(frame)
            return QUEUED
        lost = 1 + len(outbox)
        conn.state = CLOSING
        conn.dropped += lost
        self.dropped_total += lost
        outbox.clear()
        return CLOSE

    def fanout(
        self, members: Iterable[Conn], frame: object, excluded: frozenset[str]
    ) -> tuple[list[Conn], list[str], list[str], int]:
        """Decide for every member not in ``excluded``: ``(direct, to_close,
        queued, dropped)``, the idle connections to write to first.
        """
        direct: list[Conn] = []
        to_close: list[str] = []
        queued: list[str] = []
        dropped = 0
        # PERF: the idle and the queue-has-room cases inline, with their
        # names bound once per fan-out; deliver() only for the others.
        idle, closing, capacity = IDLE, CLOSING, self.capacity
        for conn in members:
            if excluded and conn.conn_id in excluded:
                continue
            state = conn.state
            if state is idle:
                direct.append(conn)
                continue
            if state is not closing and len(conn.outbox) < capacity:
                conn.outbox.append(frame)
                queued.append(conn.conn_id)
                continue
            decision = self.deliver(conn, frame)
            if decision is QUEUED:
                queued.append(conn.conn_id)
            elif decision is CLOSE:
                to_close.append(conn.conn_id)
            else:
                dropped += 1
        return direct, to_close, queued, dropped

    def start_writing(self, conn: Conn) -> None:
        """``idle -> writing``: a direct write suspended. Any other state is
        left as it is (a send that closed its own peer stays closing).
        """
        if conn.state is IDLE:
            conn.state = WRITING

    def activate(self, conn_id: str) -> bool:
        """``pending -> writing`` when frames queued meanwhile (``True``),
        ``pending -> idle`` otherwise; other states unchanged (``False``).
        """
        conn = self.get(conn_id)
        if conn.state is not PENDING:
            return False
        conn.state = WRITING if conn.outbox else IDLE
        return conn.state is WRITING

    def mark_closing(self, conn_id: str) -> int:
        """``-> closing``: discard the outbox (counted); the frames discarded."""
        conn = self.get(conn_id)
        if conn.state is CLOSING:
            return 0
        conn.state = CLOSING
        lost = len(conn.outbox)
        conn.outbox.clear()
        conn.dropped += lost
        self.dropped_total += lost
        return lost

    def next_frame(self, conn_id: str) -> object | None:
        """The writer's next frame; ``None`` when there is none to write: a
        writing connection with an empty outbox becomes idle, a pending one
        keeps its frames for :meth:`activate`, an unknown id has nothing.
        """
        conn = self.conns.get(conn_id)
        if conn is None or conn.state is not WRITING:
            return None
        if conn.outbox:
            return conn.outbox.popleft()
        conn.state = IDLE
        return None


def _unlink(index: dict[str, dict[str, Conn]], key: str, conn_id: str) -> None:
    members = index.get(key)
    if members is not None:
        members.pop(conn_id, None)
        if not members:
            del index[key]

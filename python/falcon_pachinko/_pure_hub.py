"""Pure twin of ``src-rust/hub.rs``: ``FanoutHub`` and ``Fanout`` (binding).

The Python-facing layer over the core in ``_pure_fanout``: it checks types
at the boundary (ids, rooms and user ids are ``str``; subclasses accepted),
drives the send coroutine of every idle recipient until it completes or
first suspends, and reports each delivery as one read-only ``Fanout``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._pure_fanout import CLOSE, DEFAULT_CAPACITY, DROPPED, POLICIES, QUEUED, Conn, Hub

__all__ = ["Fanout", "FanoutHub"]


class Fanout:
    """What one delivery did (a broadcast or a single-target send).

    ``sent`` recipients were written directly and ``dropped`` ones lost the
    frame (policy, or already closing); the lists name the recipients the
    caller must act on: ``suspended`` (``(conn_id, iterator, yielded)``,
    for the connection's writer), ``failed`` (``(conn_id, exception)``),
    ``to_close`` (the close policy fired) and ``queued`` (the frame waits in
    their outbox). Read-only, as the native twin's.
    """

    __slots__ = ("_dropped", "_failed", "_queued", "_sent", "_suspended", "_to_close")

    def __init__(  # noqa: PLR0917 - same signature as the native twin
        self,
        sent: int,
        dropped: int,
        suspended: list[tuple[str, Any, Any]],
        failed: list[tuple[str, Exception]],
        to_close: list[str],
        queued: list[str],
        /,
    ) -> None:
        self._sent = _count(sent, "sent")
        self._dropped = _count(dropped, "dropped")
        self._suspended = _list(suspended, "suspended")
        self._failed = _list(failed, "failed")
        self._to_close = _list(to_close, "to_close")
        self._queued = _list(queued, "queued")

    @property
    def sent(self) -> int:
        return self._sent

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def suspended(self) -> list[tuple[str, Any, Any]]:
        return self._suspended

    @property
    def failed(self) -> list[tuple[str, Exception]]:
        return self._failed

    @property
    def to_close(self) -> list[str]:
        return self._to_close

    @property
    def queued(self) -> list[str]:
        return self._queued

    @property
    def settled(self) -> bool:
        """True when nothing is left for the caller: every recipient was
        written directly or dropped (the common case, checked first).
        """
        return not (self._suspended or self._failed or self._to_close or self._queued)

    def __repr__(self) -> str:
        return (
            f"Fanout(sent={self._sent}, dropped={self._dropped}, "
            f"suspended={self._suspended!r}, failed={self._failed!r}, "
            f"to_close={self._to_close!r}, queued={self._queued!r})"
        )


def _made(  # noqa: PLR0917 - the six fields, in the public order
    sent: int,
    dropped: int,
    suspended: list[tuple[str, Any, Any]],
    failed: list[tuple[str, Exception]],
    to_close: list[str],
    queued: list[str],
) -> Fanout:
    """A ``Fanout`` from values the hub built itself.

    PERF: the public constructor checks each argument's type (as the native
    one does); the hub's own values need no check, and a broadcast should
    not pay six checks.
    """
    fan = object.__new__(Fanout)
    fan._sent, fan._dropped = sent, dropped
    fan._suspended, fan._failed = suspended, failed
    fan._to_close, fan._queued = to_close, queued
    return fan


def _count(value: Any, what: str) -> int:
    """A count, as the native ``usize`` conversion accepts it."""
    if not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise OverflowError(f"{what} must not be negative")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} must be a list, not {type(value).__name__}")
    return value


def _text(value: Any, what: str) -> str:
    """The hub's keys are ``str`` (or subclasses), as the native twin demands."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


_EMPTY = frozenset[str]()


class FanoutHub:
    """Membership index plus per-connection bounded outboxes.

    A connection is registered with its async ``send(frame)`` callable, as
    ``pending`` (frames queue until :meth:`activate`) or ``idle``. One
    ``fanout_*`` call per broadcast queues the frame for pending and writing
    connections (applying the overflow policy), drops it for closing ones
    and drives the send coroutine of every idle one until it completes or
    first suspends (that connection is then ``writing``). It returns one
    :class:`Fanout`; :meth:`send_one` returns the same for one connection.
    States and transitions: ``_pure_fanout`` (src-rust/fanout.rs).
    """

    __slots__ = ("_hub",)

    def __init__(self, *, capacity: int = DEFAULT_CAPACITY, policy: str = "drop_oldest") -> None:
        if _count(capacity, "capacity") < 1:
            raise ValueError("capacity must be at least 1")
        if _text(policy, "policy") not in POLICIES:
            names = ", ".join(repr(p) for p in POLICIES)
            raise ValueError(f"policy must be one of {names}; got {policy!r}")
        self._hub = Hub(capacity, policy)

    @property
    def capacity(self) -> int:
        return self._hub.capacity

    @property
    def policy(self) -> str:
        return self._hub.policy

    @property
    def dropped_total(self) -> int:
        return self._hub.dropped_total

    def add(self, conn_id: str, send: Any, /, *, pending: bool = False) -> None:
        _text(conn_id, "conn_id")
        if not isinstance(pending, bool):
            raise TypeError(f"pending must be a bool, not {type(pending).__name__}")
        self._hub.add(conn_id, send, pending)

    def remove(self, conn_id: str, /) -> bool:
        return self._hub.remove(_text(conn_id, "conn_id"))

    def join(self, conn_id: str, room: str, /) -> None:
        self._hub.join(_text(conn_id, "conn_id"), _text(room, "room"))

    def leave(self, conn_id: str, room: str, /) -> None:
        self._hub.leave(_text(conn_id, "conn_id"), _text(room, "room"))

    def set_user(self, conn_id: str, user_id: str | None, /) -> None:
        _text(conn_id, "conn_id")
        if user_id is not None:
            _text(user_id, "user_id")
        self._hub.set_user(conn_id, user_id)

    def members(self, room: str, /) -> list[str]:
        return list(self._hub.rooms.get(_text(room, "room"), ()))

    def user_members(self, user_id: str, /) -> list[str]:
        return list(self._hub.users.get(_text(user_id, "user_id"), ()))

    def rooms(self) -> list[str]:
        return list(self._hub.rooms)

    def rooms_of(self, conn_id: str, /) -> list[str]:
        return list(self._hub.get(_text(conn_id, "conn_id")).rooms)

    def user_of(self, conn_id: str, /) -> str | None:
        return self._hub.get(_text(conn_id, "conn_id")).user

    def room_size(self, room: str, /) -> int:
        return len(self._hub.rooms.get(_text(room, "room"), ()))

    def state(self, conn_id: str, /) -> str:
        """``pending``, ``idle``, ``writing`` or ``closing``."""
        return self._hub.get(_text(conn_id, "conn_id")).state

    def queued_count(self, conn_id: str, /) -> int:
        """Frames waiting in the connection's outbox."""
        return len(self._hub.get(_text(conn_id, "conn_id")).outbox)

    def dropped_count(self, conn_id: str, /) -> int:
        """Frames dropped for the connection (policy, or sent while closing)."""
        return self._hub.get(_text(conn_id, "conn_id")).dropped

    def _run(self, members: Iterable[Conn], frame: object, exclude: Iterable[str] | None) -> Fanout:
        excluded = (
            frozenset(_text(x, "excluded id") for x in exclude) if exclude is not None else _EMPTY
        )
        hub = self._hub
        direct, to_close, queued, dropped = hub.fanout(members, frame, excluded)
        # The decisions are made: send coroutines may call back into the hub.
        sent = 0
        suspended: list[tuple[str, Any, Any]] = []
        failed: list[tuple[str, Exception]] = []
        for conn in direct:
            try:
                it = conn.handle(frame).__await__()  # type: ignore[operator]
                yielded = it.send(None)
            except StopIteration:
                sent += 1
                continue
            except Exception as exc:  # noqa: BLE001 - reported per recipient
                failed.append((conn.conn_id, exc))
                continue
            hub.start_writing(conn)
            suspended.append((conn.conn_id, it, yielded))
        return _made(sent, dropped, suspended, failed, to_close, queued)

    def fanout_room(
        self, room: str, frame: object, exclude: Iterable[str] | None = None, /
    ) -> Fanout:
        """Route ``frame`` to a room's members."""
        members = self._hub.rooms.get(_text(room, "room"), {}).values()
        return self._run(members, frame, exclude)

    def fanout_user(
        self, user_id: str, frame: object, exclude: Iterable[str] | None = None, /
    ) -> Fanout:
        """Route ``frame`` to a user's connections."""
        members = self._hub.users.get(_text(user_id, "user_id"), {}).values()
        return self._run(members, frame, exclude)

    def fanout_all(self, frame: object, exclude: Iterable[str] | None = None, /) -> Fanout:
        """Route ``frame`` to every connection."""
        return self._run(self._hub.conns.values(), frame, exclude)

    def send_one(self, conn_id: str, frame: object, /) -> Fanout:
        """Deliver to one connection; the same :class:`Fanout` as a broadcast,
        with that connection in at most one place.
        """
        hub = self._hub
        conn = hub.get(_text(conn_id, "conn_id"))
        decision = hub.deliver(conn, frame)
        if decision is QUEUED:
            return _made(0, 0, [], [], [], [conn_id])
        if decision is DROPPED:
            return _made(0, 1, [], [], [], [])
        if decision is CLOSE:
            return _made(0, 0, [], [], [conn_id], [])
        try:
            it = conn.handle(frame).__await__()  # type: ignore[operator]
            yielded = it.send(None)
        except StopIteration:
            return _made(1, 0, [], [], [], [])
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            return _made(0, 0, [], [(conn_id, exc)], [], [])
        hub.start_writing(conn)
        return _made(0, 0, [(conn_id, it, yielded)], [], [], [])

    def activate(self, conn_id: str, /) -> bool:
        """The handshake completed: ``True`` when frames queued while pending
        (the connection is now writing: start its writer), else ``False``.
        """
        return self._hub.activate(_text(conn_id, "conn_id"))

    def mark_closing(self, conn_id: str, /) -> int:
        """Stop delivering to a departing connection; the frames discarded."""
        return self._hub.mark_closing(_text(conn_id, "conn_id"))

    def next_frame(self, conn_id: str, /) -> object | None:
        """The writer's next frame; ``None`` ends the writer (the connection
        is idle again, or not writing at all).
        """
        return self._hub.next_frame(_text(conn_id, "conn_id"))

    def __len__(self) -> int:
        return len(self._hub.conns)

    def __contains__(self, conn_id: str, /) -> bool:
        return _text(conn_id, "conn_id") in self._hub.conns

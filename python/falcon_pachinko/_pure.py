"""Pure-Python twin of the native module: the specification.

Every function and class here has exactly one native counterpart in
``src-rust/`` with the same name, signature, results and exception classes.
The native module adds speed, never behaviour; the differential tests in
``tests/accel/`` hold the two equal. Only ``_accel`` imports this module.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._purefast import fast_scan
from .exceptions import FrameError, WebSocketConnectionNotFoundError

__all__ = [
    "ACCEL_ABI",
    "DEFAULT_CAPACITY",
    "POLICIES",
    "STATES",
    "Fanout",
    "FanoutHub",
    "TagTable",
    "scan_frame",
]

ACCEL_ABI = 3
DEFAULT_MAX_SIZE = 1 << 20
DEFAULT_MAX_DEPTH = 64

_WS = re.compile(rb"[ \t\n\r]*")
_STRING = re.compile(rb'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SCALAR = (
    rb'(?:"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*+"'
    rb"|-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+|true|false|null)"
)
_KEY = rb'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*+"'
_SPACE = rb"[ \t\n\r]*+"
#: Runs of ``scalar ,`` in an array and of ``scalar , "key" :`` in a nested
#: object, consumed in one C-speed match: the walk below spends a Python
#: iteration per token only on containers and at the token that fails, so a
#: token-dense frame with a late error is not a second of blocked loop.
_ARRAY_RUN = re.compile(b"(?:" + _SPACE + _SCALAR + _SPACE + b",)*+")
_OBJECT_RUN = re.compile(
    b"(?:" + _SPACE + _SCALAR + _SPACE + b"," + _SPACE + _KEY + _SPACE + b":)*+"
)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = frozenset(b'"\\/bfnrt')
_LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}
_OPEN = {ord("{"): ord("}"), ord("["): ord("]")}
_QUOTE, _COLON, _COMMA, _LBRACE, _RBRACE = b'"', b":", b",", b"{", b"}"


class _Scanner:
    """Strict JSON validator that remembers two top-level values' spans."""

    __slots__ = ("buf", "max_depth", "n")

    def __init__(self, buf: bytes, max_depth: int) -> None:
        self.buf = buf
        self.n = len(buf)
        self.max_depth = max_depth

    def ws(self, i: int) -> int:
        m = _WS.match(self.buf, i)
        return m.end() if m else i

    def peek(self, i: int) -> int:
        if i >= self.n:
            raise FrameError("eof", self.n)
        return self.buf[i]

    def string(self, i: int) -> int:
        """Validate the string opening at ``i``; return the index past it."""
        m = _STRING.match(self.buf, i)
        if m is not None:
            return m.end()
        buf, n, j = self.buf, self.n, i + 1
        while True:
            if j >= n:
                raise FrameError("eof", n)
            c = buf[j]
            if c == 0x22:
                return j + 1
            if c == 0x5C:
                if j + 1 >= n:
                    raise FrameError("eof", n)
                e = buf[j + 1]
                if e in _SIMPLE_ESCAPES:
                    j += 2
                elif e == 0x75:
                    j += 2
                    for _ in range(4):
                        if j >= n:
                            raise FrameError("eof", n)
                        if buf[j] not in _HEX:
                            raise FrameError("syntax", j)
                        j += 1
                else:
                    raise FrameError("syntax", j + 1)
            elif c < 0x20:
                raise FrameError("syntax", j)
            else:
                j += 1

    def number(self, i: int) -> int:
        m = _NUMBER.match(self.buf, i)
        if m is not None:
            return m.end()
        # Only a '-' not followed by a digit fails to match.
        self.peek(i + 1)
        raise FrameError("syntax", i + 1)

    def literal(self, i: int, word: bytes) -> int:
        if self.buf.startswith(word, i):
            return i + len(word)
        for k, want in enumerate(word):
            if self.peek(i + k) != want:
                raise FrameError("syntax", i + k)
        return i + len(word)  # pragma: no cover - startswith would have matched

    def member_key(self, i: int) -> int:
        if self.peek(i) != 0x22:
            raise FrameError("syntax", i)
        i = self.ws(self.string(i))
        if self.peek(i) != 0x3A:
            raise FrameError("syntax", i)
        return i + 1

    def value(self, i: int, depth: int) -> int:
        """Validate one value inside a container at ``depth`` (no recursion)."""
        stack: list[int] = []
        buf = self.buf
        while True:
            if stack:
                run = _ARRAY_RUN if stack[-1] == 0x5D else _OBJECT_RUN
                i = run.match(buf, i).end()  # type: ignore[union-attr]  # matches ""
            i = self.ws(i)
            c = self.peek(i)
            close = _OPEN.get(c)
            if close is not None:
                if depth + len(stack) + 1 > self.max_depth:
                    raise FrameError("depth", i)
                stack.append(close)
                i = self.ws(i + 1)
                if self.peek(i) == close:
                    i += 1
                    stack.pop()
                else:
                    if close == 0x7D:
                        i = self.member_key(i)
                    continue
            elif c == 0x22:
                i = self.string(i)
            elif c == 0x2D or 0x30 <= c <= 0x39:
                i = self.number(i)
            elif c in _LITERALS:
                i = self.literal(i, _LITERALS[c])
            else:
                raise FrameError("syntax", i)
            while stack:
                i = self.ws(i)
                c = self.peek(i)
                if c == 0x2C:
                    i += 1
                    if stack[-1] == 0x7D:
                        i = self.member_key(self.ws(i))
                    break
                if c == stack[-1]:
                    i += 1
                    stack.pop()
                else:
                    raise FrameError("syntax", i)
            else:
                return i

    def top_object(
        self, start: int, key: bytes
    ) -> tuple[tuple[int, int] | None, tuple[int, int] | None, int]:
        """Walk the top-level object; keep the last tag and payload spans."""
        s, buf = self, self.buf
        tag: tuple[int, int] | None = None
        payload: tuple[int, int] | None = None
        i = s.ws(start + 1)
        if s.peek(i) == 0x7D:
            i += 1
        else:
            while True:
                i = s.ws(i)
                if s.peek(i) != 0x22:
                    raise FrameError("syntax", i)
                key_start = i
                i = s.string(i)
                name = buf[key_start + 1 : i - 1]
                if b"\\" in name:
                    name = _decode(buf[key_start:i], key_start).encode("utf-8")
                i = s.ws(i)
                if s.peek(i) != 0x3A:
                    raise FrameError("syntax", i)
                value_start = s.ws(i + 1)
                i = s.value(value_start, 1)
                if name == key:
                    tag = (value_start, i)
                elif name == b"payload":
                    payload = (value_start, i)
                i = s.ws(i)
                c = s.peek(i)
                if c == 0x2C:
                    i += 1
                elif c == 0x7D:
                    i += 1
                    break
                else:
                    raise FrameError("syntax", i)
        return tag, payload, i


def _decode(token: bytes, position: int) -> str:
    """Decode a JSON string token that has escapes; lone surrogates refused."""
    text: str = json.loads(token.decode("utf-8"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FrameError("escape", position) from None
    return text


def _to_bytes(frame: str | bytes) -> tuple[bytes, bool]:
    """UTF-8 bytes of the frame, and whether they still need validating."""
    if isinstance(frame, str):
        try:
            return frame.encode("utf-8"), False
        except UnicodeEncodeError:
            return frame.encode("utf-8", "surrogatepass"), True
    if isinstance(frame, bytes):
        return frame, True
    raise TypeError(f"frame must be str or bytes, not {type(frame).__name__}")


def _scan(
    frame: str | bytes, key: bytes, max_size: int, max_depth: int, key_text: str
) -> tuple[str, bytes | None]:
    buf, validate = _to_bytes(frame)
    if len(buf) > max_size:
        raise FrameError("too_large", max_size)
    if validate:
        try:
            buf.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError("utf8", exc.start) from None
    # Valid frames are answered at C speed (see _purefast); the walk below
    # is the specification and decides every case the fast path declines.
    found = fast_scan(buf, key_text, max_depth)
    if found is not None:
        return found
    s = _Scanner(buf, max_depth)
    start = s.ws(0)
    if s.peek(start) != 0x7B:
        raise FrameError("not_object", start)
    if max_depth < 1:
        raise FrameError("depth", start)
    tag, payload, i = s.top_object(start, key)
    i = s.ws(i)
    if i < s.n:
        raise FrameError("trailing", i)
    if tag is None:
        raise FrameError("missing_tag", start)
    tag_start, tag_end = tag
    if buf[tag_start] != 0x22:
        raise FrameError("tag_type", tag_start)
    raw_tag = buf[tag_start:tag_end]
    text = _decode(raw_tag, tag_start) if b"\\" in raw_tag else raw_tag[1:-1].decode("utf-8")
    body: bytes | None = None
    if payload is not None:
        body = buf[payload[0] : payload[1]]
        if body == b"null":
            body = None
    return text, body


def scan_frame(
    frame: str | bytes,
    key: str = "type",
    max_size: int = DEFAULT_MAX_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> tuple[str, bytes | None]:
    """Validate a JSON frame and return ``(tag, raw_payload_or_None)``.

    Raises
    ------
    FrameError
        With ``kind`` and ``position`` for any frame that is not a JSON object
        with a string ``key`` within the size and depth limits.
    TypeError
        When ``frame`` is neither ``str`` nor ``bytes``.
    """
    return _scan(frame, key.encode("utf-8"), max_size, max_depth, key)


class TagTable:
    """Frozen tag -> handler slot table, built once per resource class.

    ``scan`` runs the frame scan and the lookup together so an unknown tag is
    known (slot ``-1``) before any payload is decoded.
    """

    __slots__ = ("_key_bytes", "_routes", "_slots", "key", "max_depth", "max_size", "whole_frame")

    def __init__(  # noqa: PLR0917 - same signature as the native twin
        self,
        tags: Mapping[str, int],
        key: str = "type",
        max_size: int = DEFAULT_MAX_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
        routes: list[tuple[Any, Callable[[Any], Any] | None]] | None = None,
        whole_frame: bool = False,
    ) -> None:
        if not isinstance(tags, dict):
            raise TypeError(f"tags must be a dict, not {type(tags).__name__}")
        slots: dict[str, int] = {}
        for tag, slot in tags.items():
            if not isinstance(tag, str):
                raise TypeError(f"tags keys must be str, not {type(tag).__name__}")
            if not isinstance(slot, int):
                raise TypeError(f"slots must be int, not {type(slot).__name__}")
            slots[tag] = slot
        self._slots = slots
        self._routes = list(routes or ())
        self.whole_frame = whole_frame
        self._key_bytes = key.encode("utf-8")
        self.key = key
        self.max_size = max_size
        self.max_depth = max_depth

    def lookup(self, tag: str) -> int:
        """Slot for ``tag``, or -1 when no handler is registered for it."""
        return self._slots.get(tag, -1)

    def scan(self, frame: str | bytes) -> tuple[int, str, bytes | None]:
        """Scan ``frame`` and look its tag up: ``(slot, tag, payload_or_None)``."""
        tag, payload = _scan(frame, self._key_bytes, self.max_size, self.max_depth, self.key)
        return self._slots.get(tag, -1), tag, payload

    def route(self, frame: str | bytes) -> tuple[Any, Any]:
        """Scan, look up and decode in one call.

        ``(entry, value)`` for a routed tag: ``value`` is the slot's decoder
        applied to the payload bytes (or to the whole frame with
        ``whole_frame``); a missing or ``null`` payload is decoded from
        ``b"null"``, so the handler's annotation decides whether ``None`` is
        valid; ``None`` for a slot without a decoder. ``(None, (tag,
        payload))`` for a tag without a route (what the scan found, so a
        miss is never scanned again). ``FrameError`` and the decoder's own exceptions
        propagate.
        """
        tag, payload = _scan(frame, self._key_bytes, self.max_size, self.max_depth, self.key)
        slot = self._slots.get(tag, -1)
        if not 0 <= slot < len(self._routes):
            return None, (tag, payload)
        entry, decode = self._routes[slot]
        if decode is None:
            return entry, None
        if self.whole_frame:
            return entry, decode(frame)
        return entry, decode(b"null" if payload is None else payload)

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, tag: str) -> bool:
        return tag in self._slots


#: Overflow policies, the default first (src-rust/fanout.rs ``Policy::ALL``).
POLICIES = ("drop_oldest", "drop_newest", "close")
#: Per-connection delivery states, in lifecycle order (``State::ALL``).
STATES = ("pending", "idle", "writing", "closing")
#: Outbox length when the caller does not choose one.
DEFAULT_CAPACITY = 256

# PERF: states are compared by identity (`is`) on the hot path; every
# assignment uses these very objects.
_PENDING, _IDLE, _WRITING, _CLOSING = STATES


class _Conn:
    """One connection's routing state (the core's ``Conn``)."""

    __slots__ = ("conn_id", "dropped", "handle", "outbox", "rooms", "state", "user")

    def __init__(self, conn_id: str, handle: object, pending: bool) -> None:
        self.conn_id = conn_id
        self.handle = handle
        self.outbox: deque[object] = deque()
        self.state = _PENDING if pending else _IDLE
        self.dropped = 0
        self.rooms: list[str] = []
        self.user: str | None = None


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
    States: ``pending``, ``idle``, ``writing``, ``closing`` (see
    src-rust/fanout.rs for the transitions).
    """

    __slots__ = ("_capacity", "_conns", "_dropped_total", "_policy", "_rooms", "_users")

    def __init__(self, *, capacity: int = DEFAULT_CAPACITY, policy: str = "drop_oldest") -> None:
        if _count(capacity, "capacity") < 1:
            raise ValueError("capacity must be at least 1")
        if _text(policy, "policy") not in POLICIES:
            names = ", ".join(repr(p) for p in POLICIES)
            raise ValueError(f"policy must be one of {names}; got {policy!r}")
        self._capacity = capacity
        self._policy = policy
        self._conns: dict[str, _Conn] = {}
        self._rooms: dict[str, dict[str, _Conn]] = {}
        self._users: dict[str, dict[str, _Conn]] = {}
        self._dropped_total = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def policy(self) -> str:
        return self._policy

    @property
    def dropped_total(self) -> int:
        return self._dropped_total

    def _get(self, conn_id: str) -> _Conn:
        _text(conn_id, "conn_id")
        try:
            return self._conns[conn_id]
        except KeyError:
            raise WebSocketConnectionNotFoundError(conn_id) from None

    def add(self, conn_id: str, send: Any, /, *, pending: bool = False) -> None:
        if _text(conn_id, "conn_id") in self._conns:
            raise ValueError(f"Duplicate connection ID: {conn_id}")
        if not isinstance(pending, bool):
            raise TypeError(f"pending must be a bool, not {type(pending).__name__}")
        self._conns[conn_id] = _Conn(conn_id, send, pending)

    def remove(self, conn_id: str, /) -> bool:
        conn = self._conns.pop(_text(conn_id, "conn_id"), None)
        if conn is None:
            return False
        for room in conn.rooms:
            _unlink(self._rooms, room, conn_id)
        if conn.user is not None:
            _unlink(self._users, conn.user, conn_id)
        return True

    def join(self, conn_id: str, room: str, /) -> None:
        conn = self._get(conn_id)
        members = self._rooms.setdefault(_text(room, "room"), {})
        if conn_id not in members:
            members[conn_id] = conn
            conn.rooms.append(room)

    def leave(self, conn_id: str, room: str, /) -> None:
        conn = self._get(conn_id)
        _unlink(self._rooms, _text(room, "room"), conn_id)
        conn.rooms = [r for r in conn.rooms if r != room]

    def set_user(self, conn_id: str, user_id: str | None, /) -> None:
        conn = self._get(conn_id)
        if user_id is not None:
            _text(user_id, "user_id")
        if conn.user is not None:
            _unlink(self._users, conn.user, conn_id)
            conn.user = None
        if user_id is not None:
            self._users.setdefault(user_id, {})[conn_id] = conn
            conn.user = user_id

    def members(self, room: str, /) -> list[str]:
        return list(self._rooms.get(_text(room, "room"), ()))

    def user_members(self, user_id: str, /) -> list[str]:
        return list(self._users.get(_text(user_id, "user_id"), ()))

    def rooms(self) -> list[str]:
        return list(self._rooms)

    def rooms_of(self, conn_id: str, /) -> list[str]:
        return list(self._get(conn_id).rooms)

    def user_of(self, conn_id: str, /) -> str | None:
        return self._get(conn_id).user

    def room_size(self, room: str, /) -> int:
        return len(self._rooms.get(_text(room, "room"), ()))

    def state(self, conn_id: str, /) -> str:
        """``pending``, ``idle``, ``writing`` or ``closing``."""
        return self._get(conn_id).state

    def queued_count(self, conn_id: str, /) -> int:
        """Frames waiting in the connection's outbox."""
        return len(self._get(conn_id).outbox)

    def dropped_count(self, conn_id: str, /) -> int:
        """Frames dropped for the connection (policy, or sent while closing)."""
        return self._get(conn_id).dropped

    def _deliver(self, conn: _Conn, frame: object) -> str:
        """One recipient's decision: ``direct``, ``queued``, ``dropped`` or ``close``."""
        state = conn.state
        if state is _IDLE:
            return "direct"
        if state is _CLOSING:
            conn.dropped += 1
            self._dropped_total += 1
            return "dropped"
        outbox = conn.outbox
        if len(outbox) < self._capacity:
            outbox.append(frame)
            return "queued"
        policy = self._policy
        if policy == "drop_newest":
            conn.dropped += 1
            self._dropped_total += 1
            return "dropped"
        if policy == "drop_oldest":
            conn.dropped += 1
            self._dropped_total += 1
            outbox.popleft()
            outbox.append(frame)
            return "queued"
        lost = 1 + len(outbox)
        conn.state = _CLOSING
        conn.dropped += lost
        self._dropped_total += lost
        outbox.clear()
        return "close"

    def _run(
        self, members: Iterable[_Conn], frame: object, exclude: Iterable[str] | None
    ) -> Fanout:
        excluded = (
            frozenset(_text(x, "excluded id") for x in exclude) if exclude is not None else _EMPTY
        )
        direct: list[_Conn] = []
        to_close: list[str] = []
        queued: list[str] = []
        dropped = 0
        for conn in members:
            if excluded and conn.conn_id in excluded:
                continue
            if conn.state is _IDLE:
                direct.append(conn)
                continue
            decision = self._deliver(conn, frame)
            if decision == "queued":
                queued.append(conn.conn_id)
            elif decision == "close":
                to_close.append(conn.conn_id)
            else:
                dropped += 1
        sent = 0
        suspended: list[tuple[str, Any, Any]] = []
        failed: list[tuple[str, Exception]] = []
        for conn in direct:
            outcome, a, b = _drive(conn, frame)
            if outcome is _SENT:
                sent += 1
            elif outcome is _FAILED:
                failed.append((conn.conn_id, a))
            else:
                suspended.append((conn.conn_id, a, b))
        return Fanout(sent, dropped, suspended, failed, to_close, queued)

    def fanout_room(
        self, room: str, frame: object, exclude: Iterable[str] | None = None, /
    ) -> Fanout:
        """Route ``frame`` to a room's members."""
        return self._run(self._rooms.get(_text(room, "room"), {}).values(), frame, exclude)

    def fanout_user(
        self, user_id: str, frame: object, exclude: Iterable[str] | None = None, /
    ) -> Fanout:
        """Route ``frame`` to a user's connections."""
        return self._run(self._users.get(_text(user_id, "user_id"), {}).values(), frame, exclude)

    def fanout_all(self, frame: object, exclude: Iterable[str] | None = None, /) -> Fanout:
        """Route ``frame`` to every connection."""
        return self._run(self._conns.values(), frame, exclude)

    def send_one(self, conn_id: str, frame: object, /) -> Fanout:
        """Deliver to one connection; the same :class:`Fanout` as a broadcast,
        with that connection in at most one place.
        """
        conn = self._get(conn_id)
        decision = self._deliver(conn, frame)
        if decision == "queued":
            return Fanout(0, 0, [], [], [], [conn_id])
        if decision == "dropped":
            return Fanout(0, 1, [], [], [], [])
        if decision == "close":
            return Fanout(0, 0, [], [], [conn_id], [])
        outcome, a, b = _drive(conn, frame)
        if outcome is _SENT:
            return Fanout(1, 0, [], [], [], [])
        if outcome is _FAILED:
            return Fanout(0, 0, [], [(conn_id, a)], [], [])
        return Fanout(0, 0, [(conn_id, a, b)], [], [], [])

    def activate(self, conn_id: str, /) -> bool:
        """The handshake completed: ``True`` when frames queued while pending
        (the connection is now writing: start its writer), else ``False``
        (now idle; a connection that was not pending is left as it is).
        """
        conn = self._get(conn_id)
        if conn.state is not _PENDING:
            return False
        conn.state = _WRITING if conn.outbox else _IDLE
        return conn.state is _WRITING

    def mark_closing(self, conn_id: str, /) -> int:
        """Stop delivering to a departing connection; the frames discarded."""
        conn = self._get(conn_id)
        if conn.state is _CLOSING:
            return 0
        conn.state = _CLOSING
        lost = len(conn.outbox)
        conn.outbox.clear()
        conn.dropped += lost
        self._dropped_total += lost
        return lost

    def next_frame(self, conn_id: str, /) -> object | None:
        """The writer's next frame; ``None`` ends the writer: a writing
        connection with an empty outbox is idle again, and a pending,
        idle, closing or removed one has nothing for a writer.
        """
        conn = self._conns.get(_text(conn_id, "conn_id"))
        if conn is None or conn.state is not _WRITING:
            return None
        if conn.outbox:
            return conn.outbox.popleft()
        conn.state = _IDLE
        return None

    def __len__(self) -> int:
        return len(self._conns)

    def __contains__(self, conn_id: str, /) -> bool:
        return _text(conn_id, "conn_id") in self._conns


def _text(value: Any, what: str) -> str:
    """The hub's keys are ``str`` (or subclasses), as the native twin demands."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


_SENT, _FAILED, _SUSPENDED = "sent", "failed", "suspended"


def _drive(conn: _Conn, frame: object) -> tuple[str, Any, Any]:
    """Run an idle connection's send coroutine until it completes or first
    suspends: ``(_SENT, None, None)``, ``(_SUSPENDED, iterator, yielded)``
    (the connection is now writing) or ``(_FAILED, exception, None)``. Only
    ``Exception``s count as failures; other ``BaseException``s propagate.
    """
    try:
        it = conn.handle(frame).__await__()  # type: ignore[operator]
        yielded = it.send(None)
    except StopIteration:
        return _SENT, None, None
    except Exception as exc:  # noqa: BLE001 - reported per recipient
        return _FAILED, exc, None
    if conn.state is _IDLE:
        conn.state = _WRITING
    return _SUSPENDED, it, yielded


def _unlink(index: dict[str, dict[str, _Conn]], key: str, conn_id: str) -> None:
    members = index.get(key)
    if members is not None:
        members.pop(conn_id, None)
        if not members:
            del index[key]


# The bus codec twin (Redis backend) lives in its own module; re-exported here.
from ._pure_bus import BUS_KINDS, decode_bus_frame, encode_bus_frame  # noqa: E402, F401

"""Pure-Python twin of the native module: the specification.

Every function and class here has exactly one native counterpart in
``src-rust/`` with the same name, signature, results and exception classes.
The native module adds speed, never behaviour; the differential tests in
``tests/accel/`` hold the two equal. Only ``_accel`` imports this module.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._purefast import decode_string as _decode
from ._purefast import fast_scan
from .exceptions import FrameError, WebSocketConnectionNotFoundError

__all__ = ["ACCEL_ABI", "FanoutHub", "TagTable", "scan_frame"]

ACCEL_ABI = 2
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

    def value(self, i: int, depth: int, stack: list[int] | None = None, after: bool = False) -> int:
        """Validate one value inside a container at ``depth`` (no recursion).

        ``stack`` (closing bytes, innermost last) and ``after`` (a value has
        just ended) let the walk resume inside open containers: the fast
        path hands over near a malformed frame's error this way.
        """
        if stack is None:
            stack = []
        buf = self.buf
        while True:
            if after:
                after = False
            else:
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

    def resume(self, i: int, opened: bytes, state: str) -> None:
        """Walk on from ``i`` to the frame's error, as ``top_object`` would.

        ``opened`` lists the containers still open at ``i`` (outermost first,
        ``{`` for the top-level object, empty once it has closed) and
        ``state`` what comes next: ``"value"``, ``"key"`` (a member of the
        innermost object) or ``"after"`` (a value has just ended). The fast
        path computes these from a malformed frame's structure so the walk
        covers only the last few tokens; it raises the same ``FrameError``
        the whole walk would, and returns only if the rest is valid (the
        caller then walks the whole frame).
        """
        if opened:
            nested = [_OPEN[c] for c in opened[1:]]
            if nested:
                if state == "key":
                    i, state = self.member_key(self.ws(i)), "value"
                i, state = self.value(i, 1, nested, after=state == "after"), "after"
            while True:
                if state == "key":
                    i = self.ws(i)
                    if self.peek(i) != 0x22:
                        raise FrameError("syntax", i)
                    key_start, i = i, self.string(i)
                    if b"\\" in self.buf[key_start:i]:
                        _decode(self.buf[key_start:i], key_start)
                    i = self.ws(i)
                    if self.peek(i) != 0x3A:
                        raise FrameError("syntax", i)
                    i, state = i + 1, "value"
                if state == "value":
                    i = self.value(self.ws(i), 1)
                i = self.ws(i)
                c = self.peek(i)
                if c == 0x7D:
                    i += 1
                    break
                if c != 0x2C:
                    raise FrameError("syntax", i)
                i, state = i + 1, "key"
        i = self.ws(i)
        if i < self.n:
            raise FrameError("trailing", i)

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
    frame: str | bytes,
    key: bytes,
    max_size: int,
    max_depth: int,
    key_text: str,
    *,
    fast: bool = True,
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
    found = fast_scan(buf, key_text, max_depth) if fast else None
    if isinstance(found, tuple):
        return found
    s = _Scanner(buf, max_depth)
    if found is not None:
        # A malformed frame: walk only from where its structure says the
        # error is near (raises); the whole walk runs only if that passes.
        s.resume(found.at, found.opened, found.state)
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


class _Conn:
    __slots__ = ("busy", "closing", "conn_id", "dropped", "outbox", "rooms", "target", "user")

    def __init__(self, conn_id: str, target: object) -> None:
        self.conn_id = conn_id
        self.target = target
        self.outbox: deque[object] = deque()
        self.busy = False
        self.closing = False
        self.dropped = 0
        self.rooms: list[str] = []
        self.user: str | None = None


_POLICIES = ("drop_oldest", "drop_newest", "close")

#: ``(sent, dropped, suspended, failed, close, queued)`` as returned by ``fanout_*``.
Fanout = tuple[
    int, int, list[tuple[str, Any, Any]], list[tuple[str, Exception]], list[str], list[str]
]


class FanoutHub:
    """Membership index plus per-connection bounded outboxes.

    A connection is registered with its async ``send(frame)`` callable. One
    ``fanout_*`` call per broadcast queues the frame for busy connections
    (applying the overflow policy) and drives the send coroutine of every
    idle one until it completes or first suspends; it returns
    ``(sent, dropped, suspended, failed, close, queued)`` so Python acts only
    on the exceptions (``dropped`` counts recipients whose frame the policy
    dropped or that were already closing): suspended sends
    (``(conn_id, iterator, yielded)``, handed to the connection's writer;
    the connection is now busy), failed sends (``(conn_id, exception)``),
    connections to close by policy and the ids of busy connections whose
    outbox took the frame.
    """

    __slots__ = ("_conns", "_dropped_total", "_rooms", "_users", "capacity", "policy")

    def __init__(self, capacity: int = 256, policy: str = "drop_oldest") -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if policy not in _POLICIES:
            raise ValueError(
                f"policy must be one of 'drop_oldest', 'drop_newest', 'close'; got {policy!r}"
            )
        self.capacity = capacity
        self.policy = policy
        self._conns: dict[str, _Conn] = {}
        self._rooms: dict[str, dict[str, _Conn]] = {}
        self._users: dict[str, dict[str, _Conn]] = {}
        self._dropped_total = 0

    @property
    def dropped_total(self) -> int:
        return self._dropped_total

    def _get(self, conn_id: str) -> _Conn:
        _text(conn_id, "conn_id")
        try:
            return self._conns[conn_id]
        except KeyError:
            raise WebSocketConnectionNotFoundError(conn_id) from None

    def add(self, conn_id: str, send: Any) -> None:
        if _text(conn_id, "conn_id") in self._conns:
            raise ValueError(f"Duplicate connection ID: {conn_id}")
        self._conns[conn_id] = _Conn(conn_id, send)

    def remove(self, conn_id: str) -> bool:
        conn = self._conns.pop(_text(conn_id, "conn_id"), None)
        if conn is None:
            return False
        for room in conn.rooms:
            _unlink(self._rooms, room, conn_id)
        if conn.user is not None:
            _unlink(self._users, conn.user, conn_id)
        return True

    def join(self, conn_id: str, room: str) -> None:
        conn = self._get(conn_id)
        members = self._rooms.setdefault(_text(room, "room"), {})
        if conn_id not in members:
            members[conn_id] = conn
            conn.rooms.append(room)

    def leave(self, conn_id: str, room: str) -> None:
        conn = self._get(conn_id)
        _unlink(self._rooms, _text(room, "room"), conn_id)
        conn.rooms = [r for r in conn.rooms if r != room]

    def set_user(self, conn_id: str, user_id: str | None) -> None:
        conn = self._get(conn_id)
        if user_id is not None:
            _text(user_id, "user_id")
        if conn.user is not None:
            _unlink(self._users, conn.user, conn_id)
            conn.user = None
        if user_id is not None:
            self._users.setdefault(user_id, {})[conn_id] = conn
            conn.user = user_id

    def members(self, room: str) -> list[str]:
        return list(self._rooms.get(_text(room, "room"), ()))

    def user_members(self, user_id: str) -> list[str]:
        return list(self._users.get(_text(user_id, "user_id"), ()))

    def rooms(self) -> list[str]:
        return list(self._rooms)

    def connection_ids(self) -> list[str]:
        return list(self._conns)

    def rooms_of(self, conn_id: str) -> list[str]:
        return list(self._get(conn_id).rooms)

    def user_of(self, conn_id: str) -> str | None:
        return self._get(conn_id).user

    def room_size(self, room: str) -> int:
        return len(self._rooms.get(_text(room, "room"), ()))

    def target(self, conn_id: str) -> Any:
        conn = self._conns.get(_text(conn_id, "conn_id"))
        return None if conn is None else conn.target

    def stats(self, conn_id: str) -> tuple[int, int, bool]:
        """``(queued, dropped, busy)`` for one connection."""
        conn = self._get(conn_id)
        return len(conn.outbox), conn.dropped, conn.busy

    def _deliver(self, conn: _Conn, frame: object) -> str:
        if conn.closing:
            conn.dropped += 1
            self._dropped_total += 1
            return "dropped"
        if not conn.busy:
            return "direct"
        outbox = conn.outbox
        if len(outbox) < self.capacity:
            outbox.append(frame)
            return "queued"
        policy = self.policy
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
        conn.closing = True
        conn.dropped += lost
        self._dropped_total += lost
        outbox.clear()
        return "close"

    def _run(
        self, members: Iterable[_Conn], frame: object, exclude: Iterable[str] | None
    ) -> Fanout:
        excluded = (
            frozenset(_text(x, "excluded id") for x in exclude)
            if exclude is not None
            else frozenset()
        )
        direct: list[_Conn] = []
        close: list[str] = []
        queued: list[str] = []
        dropped = 0
        for conn in members:
            if excluded and conn.conn_id in excluded:
                continue
            if not conn.busy and not conn.closing:
                direct.append(conn)
                continue
            decision = self._deliver(conn, frame)
            if decision == "queued":
                queued.append(conn.conn_id)
            elif decision == "close":
                close.append(conn.conn_id)
            else:
                dropped += 1
        sent = 0
        suspended: list[tuple[str, Any, Any]] = []
        failed: list[tuple[str, Exception]] = []
        for conn in direct:
            outcome, a, b = _drive(conn, frame)
            if outcome == "sent":
                sent += 1
            elif outcome == "failed":
                failed.append((conn.conn_id, a))
            else:
                suspended.append((conn.conn_id, a, b))
        return sent, dropped, suspended, failed, close, queued

    def fanout_room(self, room: str, frame: object, exclude: Iterable[str] | None = None) -> Fanout:
        """Route ``frame`` to a room: ``(sent, dropped, suspended, failed, close, queued)``."""
        return self._run(self._rooms.get(_text(room, "room"), {}).values(), frame, exclude)

    def fanout_user(
        self, user_id: str, frame: object, exclude: Iterable[str] | None = None
    ) -> Fanout:
        return self._run(self._users.get(_text(user_id, "user_id"), {}).values(), frame, exclude)

    def fanout_all(self, frame: object, exclude: Iterable[str] | None = None) -> Fanout:
        return self._run(self._conns.values(), frame, exclude)

    def send_one(self, conn_id: str, frame: object) -> tuple[str, Any, Any]:
        """Deliver to one connection: ``(outcome, a, b)``; outcome is ``sent``,
        ``suspended`` (a=iterator, b=yielded), ``failed`` (a=exception),
        ``queued``, ``dropped`` or ``close``.
        """
        conn = self._get(conn_id)
        decision = self._deliver(conn, frame)
        if decision != "direct":
            return decision, None, None
        return _drive(conn, frame)

    def mark_busy(self, conn_id: str) -> None:
        self._get(conn_id).busy = True

    def mark_closing(self, conn_id: str) -> int:
        """Stop delivering to a departing connection; the frames discarded."""
        conn = self._get(conn_id)
        if conn.closing:
            return 0
        conn.closing = True
        lost = len(conn.outbox)
        conn.outbox.clear()
        conn.dropped += lost
        self._dropped_total += lost
        return lost

    def pop(self, conn_id: str) -> object | None:
        """Next queued frame; ``None`` (and the writer marked idle) when empty."""
        conn = self._conns.get(_text(conn_id, "conn_id"))
        if conn is None:
            return None
        if conn.outbox:
            return conn.outbox.popleft()
        conn.busy = False
        return None

    def __len__(self) -> int:
        return len(self._conns)

    def __contains__(self, conn_id: str) -> bool:
        return _text(conn_id, "conn_id") in self._conns


def _text(value: Any, what: str) -> str:
    """The hub's keys are ``str`` (or subclasses), as the native twin demands."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _drive(conn: _Conn, frame: object) -> tuple[str, Any, Any]:
    """Run an idle connection's send coroutine until it completes or first
    suspends: ``("sent", None, None)``, ``("suspended", iterator, yielded)``
    (the connection is now busy) or ``("failed", exception, None)``. Only
    ``Exception``s count as failures; other ``BaseException``s propagate.
    """
    try:
        it = conn.target(frame).__await__()  # type: ignore[operator]
        yielded = it.send(None)
    except StopIteration:
        return "sent", None, None
    except Exception as exc:  # noqa: BLE001 - reported per recipient
        return "failed", exc, None
    conn.busy = True
    return "suspended", it, yielded


def _unlink(index: dict[str, dict[str, _Conn]], key: str, conn_id: str) -> None:
    members = index.get(key)
    if members is not None:
        members.pop(conn_id, None)
        if not members:
            del index[key]


# The bus codec twin (Redis backend) lives in its own module; re-exported here.
from ._pure_bus import BUS_KINDS, decode_bus_frame, encode_bus_frame  # noqa: E402, F401

"""Pure twin of ``src-rust/frame.rs``: the strict JSON frame scan (core).

The walk below is the specification of the scan: strict RFC 8259
validation with an explicit stack (no recursion), the top-level tag and the
raw payload span, and every error as ``FrameError(kind, position)``. Valid
frames are answered by the msgspec fast path in ``_purefast`` first; this
walk decides every case the fast path declines. ``_pure_lookup`` (the
binding's twin) is its only user.
"""

from __future__ import annotations

import re

from ._purefast import decode_string as _decode
from ._purefast import fast_scan
from .exceptions import FrameError

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_SIZE", "scan"]

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


def scan(
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

"""Pure twin of the native bus codec: the specification of a bus frame.

A bus frame is what the distributed backend puts on Redis for one delivery
that must reach other nodes: whom it targets, whom to exclude, which node
sent it (so that node does not deliver it twice) and the encoded message.
Every node decodes every frame of the channel, so a frame from a buggy or
hostile publisher must be rejected with :class:`BusFrameError`, never crash
the subscriber.

Layout (all integers big-endian)::

    "PB"  version:u8=1  kind:u8  flags:u8
    origin_len:u8  origin
    target_len:u16 target
    n_exclude:u16  (len:u16 id) * n_exclude
    payload_len:u32 payload            -- must end exactly at the frame's end

``kind`` indexes :data:`BUS_KINDS`; flag bit 0 marks a binary payload (a
text payload is UTF-8 and decodes to ``str``). Every text field is strict
UTF-8. Errors carry the offset of the field being read.
"""

from __future__ import annotations

from collections.abc import Iterable

from .exceptions import BusFrameError

__all__ = ["BUS_KINDS", "decode_bus_frame", "encode_bus_frame"]

#: Target kinds, in wire order.
BUS_KINDS = ("all", "room", "user", "conn", "control")
DEFAULT_MAX_BUS_FRAME = 1 << 24

_KIND_INDEX = {k: i for i, k in enumerate(BUS_KINDS)}
_MAGIC = b"PB"
_VERSION = 1
_BINARY = 1
_MAX_U8, _MAX_U16, _MAX_U32 = 0xFF, 0xFFFF, 0xFFFF_FFFF


def _utf8(value: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"expected str, not {type(value).__name__}")
    return value.encode("utf-8")


def encode_bus_frame(
    kind: str,
    target: str,
    exclude: Iterable[str] | None,
    origin: str,
    payload: str | bytes,
) -> bytes:
    """Encode one bus frame (see the module docstring for the layout).

    Raises ``TypeError`` for arguments of the wrong type and
    :class:`BusFrameError` (``target_kind`` or ``too_large``, position 0)
    for an unknown kind or a field longer than its length prefix allows.
    """
    if not isinstance(kind, str):
        raise TypeError(f"kind must be str, not {type(kind).__name__}")
    index = _KIND_INDEX.get(kind)
    if index is None:
        raise BusFrameError("target_kind", 0)
    target_b = _utf8(target)
    excluded = [_utf8(x) for x in exclude] if exclude is not None else []
    origin_b = _utf8(origin)
    if isinstance(payload, bytes):
        flags, body = _BINARY, payload
    elif isinstance(payload, str):
        flags, body = 0, payload.encode("utf-8")
    else:
        raise TypeError(f"payload must be str or bytes, not {type(payload).__name__}")
    if (
        len(origin_b) > _MAX_U8
        or len(target_b) > _MAX_U16
        or len(excluded) > _MAX_U16
        or any(len(x) > _MAX_U16 for x in excluded)
        or len(body) > _MAX_U32
    ):
        raise BusFrameError("too_large", 0)
    parts = [
        _MAGIC,
        bytes((_VERSION, index, flags, len(origin_b))),
        origin_b,
        len(target_b).to_bytes(2, "big"),
        target_b,
        len(excluded).to_bytes(2, "big"),
    ]
    for x in excluded:
        parts.append(len(x).to_bytes(2, "big"))
        parts.append(x)
    parts.append(len(body).to_bytes(4, "big"))
    parts.append(body)
    return b"".join(parts)


class _Reader:
    """Bounds-checked cursor: every read past the end is ``eof`` at the
    offset where the field starts.
    """

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        start = self.pos
        end = start + n
        if end > len(self.buf):
            raise BusFrameError("eof", start)
        self.pos = end
        return self.buf[start:end]

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def text(self, n: int) -> str:
        start = self.pos
        raw = self.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BusFrameError("utf8", start) from None


def decode_bus_frame(
    frame: bytes, max_size: int = DEFAULT_MAX_BUS_FRAME
) -> tuple[str, str, tuple[str, ...], str, str | bytes]:
    """Decode one bus frame: ``(kind, target, exclude, origin, payload)``.

    ``payload`` is ``bytes`` for a binary frame and ``str`` for a text one.
    Anything else raises :class:`BusFrameError` with the kind of problem and
    the offset of the field; a non-``bytes`` argument is a ``TypeError``.
    """
    if not isinstance(frame, bytes):
        raise TypeError(f"frame must be bytes, not {type(frame).__name__}")
    if max_size < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if len(frame) > max_size:
        raise BusFrameError("too_large", max_size)
    r = _Reader(frame)
    if r.take(2) != _MAGIC:
        raise BusFrameError("magic", 0)
    if r.uint(1) != _VERSION:
        raise BusFrameError("version", 2)
    index = r.uint(1)
    if index >= len(BUS_KINDS):
        raise BusFrameError("target_kind", 3)
    flags = r.uint(1)
    if flags & ~_BINARY:
        raise BusFrameError("flags", 4)
    origin = r.text(r.uint(1))
    target = r.text(r.uint(2))
    count = r.uint(2)
    exclude = tuple(r.text(r.uint(2)) for _ in range(count))
    size = r.uint(4)
    payload: str | bytes = r.take(size) if flags & _BINARY else r.text(size)
    if r.pos != len(frame):
        raise BusFrameError("trailing", r.pos)
    return BUS_KINDS[index], target, exclude, origin, payload

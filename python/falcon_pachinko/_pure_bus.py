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

import struct
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
_HEAD = struct.Struct(">2sBBBB")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


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
    /,
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
    # PERF: one struct pack per fixed part and one join (the pure path
    # encodes every broadcast that leaves the node): ~2x the per-field
    # ``to_bytes`` version.
    parts = [
        _HEAD.pack(_MAGIC, _VERSION, index, flags, len(origin_b)),
        origin_b,
        _U16.pack(len(target_b)),
        target_b,
        _U16.pack(len(excluded)),
    ]
    for x in excluded:
        parts.append(_U16.pack(len(x)))
        parts.append(x)
    parts.append(_U32.pack(len(body)))
    parts.append(body)
    return b"".join(parts)


def _text(frame: bytes, pos: int, size: int) -> str:
    """``size`` bytes of UTF-8 at ``pos`` (``eof``/``utf8`` at ``pos``)."""
    end = pos + size
    if end > len(frame):
        raise BusFrameError("eof", pos)
    try:
        return frame[pos:end].decode("utf-8")
    except UnicodeDecodeError:
        raise BusFrameError("utf8", pos) from None


def _u16(frame: bytes, pos: int) -> int:
    if pos + 2 > len(frame):
        raise BusFrameError("eof", pos)
    return (frame[pos] << 8) | frame[pos + 1]


def _header(frame: bytes, size: int) -> tuple[int, int]:
    """Magic, version, kind and flags, checked in wire order: ``(kind, flags)``."""
    if size < 2:
        raise BusFrameError("eof", 0)
    if frame[:2] != _MAGIC:
        raise BusFrameError("magic", 0)
    if size < 3:
        raise BusFrameError("eof", 2)
    if frame[2] != _VERSION:
        raise BusFrameError("version", 2)
    if size < 4:
        raise BusFrameError("eof", 3)
    index = frame[3]
    if index >= len(BUS_KINDS):
        raise BusFrameError("target_kind", 3)
    if size < 5:
        raise BusFrameError("eof", 4)
    flags = frame[4]
    if flags & ~_BINARY:
        raise BusFrameError("flags", 4)
    if size < 6:
        raise BusFrameError("eof", 5)
    return index, flags


def decode_bus_frame(
    frame: bytes, /, *, max_size: int = DEFAULT_MAX_BUS_FRAME
) -> tuple[str, str, tuple[str, ...], str, str | bytes]:
    """Decode one bus frame: ``(kind, target, exclude, origin, payload)``.

    ``payload`` is ``bytes`` for a binary frame and ``str`` for a text one.
    Anything else raises :class:`BusFrameError` with the kind of problem and
    the offset of the field; a non-``bytes`` argument is a ``TypeError``.
    Every read is bounds-checked: a read past the end is ``eof`` at the
    offset where the field starts.
    """
    if not isinstance(frame, bytes):
        raise TypeError(f"frame must be bytes, not {type(frame).__name__}")
    if max_size < 0:
        raise OverflowError("can't convert negative int to unsigned")
    size = len(frame)
    if size > max_size:
        raise BusFrameError("too_large", max_size)
    # PERF: fields read by offset (no cursor object, no method call per
    # field): the pure path decodes every frame of the cluster, ~3x faster
    # than the cursor it replaced, same errors at the same positions.
    index, flags = _header(frame, size)
    pos = 6 + frame[5]
    origin = _text(frame, 6, frame[5])
    n = _u16(frame, pos)
    target = _text(frame, pos + 2, n)
    pos += 2 + n
    count = _u16(frame, pos)
    pos += 2
    exclude: tuple[str, ...] = ()
    if count:
        ids = []
        for _ in range(count):
            n = _u16(frame, pos)
            ids.append(_text(frame, pos + 2, n))
            pos += 2 + n
        exclude = tuple(ids)
    if pos + 4 > size:
        raise BusFrameError("eof", pos)
    n = int.from_bytes(frame[pos : pos + 4], "big")
    pos += 4
    payload: str | bytes
    if flags & _BINARY:
        if pos + n > size:
            raise BusFrameError("eof", pos)
        payload = frame[pos : pos + n]
    else:
        payload = _text(frame, pos, n)
    pos += n
    if pos != size:
        raise BusFrameError("trailing", pos)
    return BUS_KINDS[index], target, exclude, origin, payload

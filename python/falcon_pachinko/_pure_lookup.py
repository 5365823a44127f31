"""Pure twin of ``src-rust/lookup.rs``: ``scan_frame`` and ``TagTable`` (binding).

The scan itself is ``_pure_frame``; this module is the Python-facing layer
over it, as ``lookup.rs`` is over ``frame.rs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._pure_frame import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE
from ._pure_frame import scan as _scan

__all__ = ["TagTable", "scan_frame"]


def scan_frame(
    frame: str | bytes,
    /,
    *,
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
    key = _key(key)
    max_size, max_depth = _usize("max_size", max_size), _usize("max_depth", max_depth)
    return _scan(frame, key.encode("utf-8"), max_size, max_depth, key)


# Option checks, as the binding's argument conversion does them: the native
# twin converts each option when called (``&str``, ``usize``, ``bool``, a
# sequence of 2-tuples), so a wrong type fails at once with the same class
# of error in both twins, never later inside a scan.
_USIZE_MAX = (1 << 64) - 1
_ISIZE_MIN, _ISIZE_MAX = -(1 << 63), (1 << 63) - 1


def _key(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"key must be str, not {type(value).__name__}")
    return str(value)


def _usize(name: str, value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= _USIZE_MAX:
        raise OverflowError(f"{name} out of range: {value}")
    return int(value)


def _routes(value: object) -> list[tuple[Any, Callable[[Any], Any] | None]]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"routes must be a sequence of 2-tuples, not {type(value).__name__}")
    out: list[tuple[Any, Callable[[Any], Any] | None]] = []
    for item in value:
        if not isinstance(item, tuple):
            raise TypeError(f"each route must be a tuple, not {type(item).__name__}")
        if len(item) != 2:
            raise ValueError(f"each route must be (entry, decoder), got {len(item)} items")
        out.append((item[0], item[1]))
    return out


class TagTable:
    """Frozen tag -> handler slot table, built once per resource class.

    ``scan`` runs the frame scan and the lookup together so an unknown tag is
    known (slot ``-1``) before any payload is decoded.
    """

    __slots__ = (
        "_key",
        "_key_bytes",
        "_max_depth",
        "_max_size",
        "_routes",
        "_slots",
        "_whole_frame",
    )

    def __init__(
        self,
        tags: Mapping[str, int],
        /,
        *,
        key: str = "type",
        max_size: int = DEFAULT_MAX_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
        routes: list[tuple[Any, Callable[[Any], Any] | None]] | None = None,
        whole_frame: bool = False,
    ) -> None:
        # In the binding's order: every argument converted, then the tags.
        if not isinstance(tags, dict):
            raise TypeError(f"tags must be a dict, not {type(tags).__name__}")
        key = _key(key)
        self._max_size = _usize("max_size", max_size)
        self._max_depth = _usize("max_depth", max_depth)
        self._routes = _routes(routes)
        if not isinstance(whole_frame, bool):
            raise TypeError(f"whole_frame must be a bool, not {type(whole_frame).__name__}")
        slots: dict[str, int] = {}
        for tag, slot in tags.items():
            if not isinstance(tag, str):
                raise TypeError(f"tags keys must be str, not {type(tag).__name__}")
            if not isinstance(slot, int):
                raise TypeError(f"slots must be int, not {type(slot).__name__}")
            if not _ISIZE_MIN <= slot <= _ISIZE_MAX:
                raise OverflowError(f"slot out of range: {slot}")
            slots[tag] = int(slot)
        self._slots = slots
        self._whole_frame = whole_frame
        self._key_bytes = key.encode("utf-8")
        self._key = key

    # Read-only, as the native twin's: a table is frozen once built.
    @property
    def key(self) -> str:
        return self._key

    @property
    def max_size(self) -> int:
        return self._max_size

    @property
    def max_depth(self) -> int:
        return self._max_depth

    @property
    def whole_frame(self) -> bool:
        return self._whole_frame

    def lookup(self, tag: str, /) -> int:
        """Slot for ``tag``, or -1 when no handler is registered for it."""
        return self._slots.get(tag, -1)

    def scan(self, frame: str | bytes, /) -> tuple[int, str, bytes | None]:
        """Scan ``frame`` and look its tag up: ``(slot, tag, payload_or_None)``."""
        tag, payload = _scan(frame, self._key_bytes, self._max_size, self._max_depth, self._key)
        return self._slots.get(tag, -1), tag, payload

    def route(self, frame: str | bytes, /) -> tuple[Any, Any]:
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
        tag, payload = _scan(frame, self._key_bytes, self._max_size, self._max_depth, self._key)
        slot = self._slots.get(tag, -1)
        if not 0 <= slot < len(self._routes):
            return None, (tag, payload)
        entry, decode = self._routes[slot]
        if decode is None:
            return entry, None
        if self._whole_frame:
            return entry, decode(frame)
        return entry, decode(b"null" if payload is None else payload)

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, tag: str, /) -> bool:
        return tag in self._slots

"""The pure scanner's fast path: whole-frame work at C speed, no per-token loop.

``_pure._Scanner`` is the specification of ``scan_frame``: it walks the frame
one Python iteration per token, so a 1 MiB token-dense frame (``[1,1,1,...]``)
would block the event loop for about a second. This module answers the
common case (a valid frame) with a few whole-buffer operations that run in C:
msgspec validates the JSON and finds the top-level tag and payload as
``msgspec.Raw`` spans, and ``bytes``/``itertools`` primitives measure the
nesting depth. Whenever the answer could differ from the specification
(any error, a surrogate escape, a decoder limit) it returns ``None`` and the
exact scanner decides, so results, error kinds and positions are unchanged.

Only ``_pure`` imports this module.
"""

from __future__ import annotations

import re
from array import array
from functools import lru_cache
from itertools import accumulate
from typing import Any

import msgspec

from .exceptions import FrameError

__all__ = ["fast_scan"]

#: A ``\\uD800``-``\\uDFFF`` escape not itself escaped. msgspec refuses lone
#: surrogates anywhere while the specification refuses them only in top-level
#: keys and the tag, so such frames go to the exact scanner.
_SURROGATE = re.compile(rb"(?:^|[^\\])(?:\\\\)*+\\u[dD][89a-fA-F]")
_WS = re.compile(rb"[ \t\n\r]*+")

_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")
#: +1 for ``[``, -1 (``0xff`` read as a signed byte) for ``]``.
_DELTA = bytes(1 if c == 0x5B else 0xFF if c == 0x5D else 0 for c in range(256))
#: Innermost-pair removals tried before the regex: wide, shallow frames
#: (the usual kind, and ``[[],[],...]``) empty out in two or three passes.
_PASSES = 4
#: Deepest limit checked by a compiled regex (it nests one group per level).
_REGEX_DEPTH = 200

#: Marks an absent member (a present ``msgspec.Raw`` is never empty).
_ABSENT = msgspec.Raw(b"")


@lru_cache(maxsize=32)
def _decoder(key: str) -> msgspec.json.Decoder[Any]:
    """A decoder finding the last top-level ``key`` and ``"payload"`` values.

    Keys are developer-chosen (one per resource class), so the cache is
    bounded by the application, never by client input.
    """
    fields: list[tuple[str, Any, Any]] = [("tag", msgspec.Raw, _ABSENT)]
    rename = {"tag": key}
    if key != "payload":
        fields.append(("body", msgspec.Raw, _ABSENT))
        rename["body"] = "payload"
    envelope = msgspec.defstruct("_Envelope", fields, rename=rename)
    return msgspec.json.Decoder(envelope)


def mask_strings(buf: bytes) -> bytes:
    """``buf`` with every string body zeroed, same length (valid JSON only).

    Escaped backslashes and quotes are neutralised first, so the remaining
    quotes pair up left to right and brackets or commas inside strings no
    longer look like structure.
    """
    if b'"' not in buf:
        return buf
    if b"\\" in buf:
        buf = buf.replace(b"\\\\", b"@@").replace(b'\\"', b"@@")
    parts = buf.split(b'"')
    parts[1::2] = map(bytes, map(len, parts[1::2]))
    return b'"'.join(parts)


@lru_cache(maxsize=8)
def _balanced(depth: int) -> re.Pattern[bytes]:
    """``[``/``]`` sequences nested at most ``depth`` deep.

    One possessive group per level: the match is a single left-to-right pass
    in C without backtracking. Limits are per application, so the cache is
    bounded by configuration, never by input.
    """
    pattern = b""
    for _ in range(depth):
        pattern = rb"(?:\[" + pattern + rb"\])*+"
    return re.compile(pattern)


def nesting_within(buf: bytes, limit: int) -> bool:
    """Whether a valid JSON text nests at most ``limit`` deep (top object 1).

    On invalid JSON the answer is meaningless (and unused: msgspec rejects
    the frame and the exact scanner decides).
    """
    brackets = mask_strings(buf).translate(_SQUARE, _NOT_BRACKET)
    spent = 0
    # Each pass removes every innermost pair, lowering the height by one.
    while brackets and spent < min(limit, _PASSES):
        brackets = brackets.replace(b"[]", b"")
        spent += 1
    if not brackets:
        return True
    rest = limit - spent
    if rest <= 0:
        return False
    if rest <= _REGEX_DEPTH:
        return _balanced(rest).fullmatch(brackets) is not None
    return max(accumulate(array("b", brackets.translate(_DELTA)))) <= rest


def fast_scan(buf: bytes, key: str, max_depth: int) -> tuple[str, bytes | None] | None:
    """``(tag, payload)`` for a valid frame, or ``None``: ask the exact scanner.

    ``buf`` is valid UTF-8 within the size limit. Raises ``FrameError`` only
    where the verdict is certain (``missing_tag``).
    """
    if max_depth < 1 or (b"\\u" in buf and _SURROGATE.search(buf) is not None):
        return None
    if buf.count(b"[") + buf.count(b"{") > max_depth and not nesting_within(buf, max_depth):
        return None
    try:
        envelope = _decoder(key).decode(buf)
    except (msgspec.DecodeError, RecursionError):
        # Invalid JSON, not an object, or nesting beyond msgspec's own
        # recursion limit (only with max_depth raised into the thousands).
        return None
    raw_tag = bytes(envelope.tag)
    if not raw_tag:
        # A valid object within the limits and without surrogate escapes:
        # the specification's only possible verdict.
        raise FrameError("missing_tag", first_nonspace(buf))
    if raw_tag[0] != 0x22:
        # Not a string: the error's position is the exact scanner's to find.
        return None
    if b"\\" in raw_tag:
        try:
            tag: str = msgspec.json.decode(raw_tag)
        except msgspec.DecodeError:
            return None
    else:
        tag = raw_tag[1:-1].decode("utf-8")
    # With key "payload" the tag shadows the payload, as in the specification.
    body = b"" if key == "payload" else bytes(envelope.body)
    return tag, (None if body in (b"", b"null") else body)


def first_nonspace(buf: bytes) -> int:
    """Index of the first byte that is not JSON whitespace."""
    match = _WS.match(buf)
    return match.end() if match else 0

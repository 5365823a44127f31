"""Hypothesis strategies for JSON frames: valid, near-miss and hostile."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

WS = st.sampled_from(["", " ", "\n", "\t", "\r\n  "])
KEYS = st.sampled_from(["type", "payload", "a", "typ", "types", "Type", "é", "x y"]) | st.text(
    max_size=6
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def escaped_string(draw: st.DrawFn, text: str) -> str:
    """JSON string literal of ``text`` with some characters \\u-escaped."""
    out = ['"']
    for ch in text:
        if ord(ch) < 0x10000 and draw(st.booleans()):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(json.dumps(ch, ensure_ascii=False)[1:-1])
    out.append('"')
    return "".join(out)


@st.composite
def serialize(draw: st.DrawFn, value: Any) -> str:
    """JSON text of ``value`` with random whitespace and key escaping."""
    if isinstance(value, dict):
        items = [
            draw(escaped_string(k)) + draw(WS) + ":" + draw(WS) + draw(serialize(v))
            for k, v in value.items()
        ]
        return "{" + draw(WS) + ("," + draw(WS)).join(items) + draw(WS) + "}"
    if isinstance(value, list):
        return "[" + draw(WS) + ("," + draw(WS)).join(draw(serialize(v)) for v in value) + "]"
    if isinstance(value, str):
        return draw(escaped_string(value))
    return json.dumps(value)


@st.composite
def frames(draw: st.DrawFn) -> str:
    """Envelope-like objects: tag in any position, maybe duplicated or odd."""
    members: list[tuple[str, Any]] = [
        (k, v) for k, v in draw(st.dictionaries(KEYS, json_values, max_size=4)).items()
    ]
    tag_value = draw(st.text(max_size=10) | json_values)
    members.insert(draw(st.integers(0, len(members))), ("type", tag_value))
    if draw(st.booleans()):
        nested = {"type": draw(st.text(max_size=5)), "x": draw(json_values)}
        members.append(("payload", nested))
    if draw(st.integers(0, 4)) == 0:
        members.append(("type", draw(st.text(max_size=5))))
    body = [
        draw(escaped_string(k)) + draw(WS) + ":" + draw(WS) + draw(serialize(v)) for k, v in members
    ]
    return draw(WS) + "{" + draw(WS) + ("," + draw(WS)).join(body) + draw(WS) + "}" + draw(WS)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid frame with a few byte-level mutations (near misses)."""
    data = bytearray(draw(frames()).encode("utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "delete" and data:
            del data[pos]
        elif op == "insert":
            data.insert(pos, draw(st.sampled_from(b'{}[]",:\\ -0aeu\x00\xff\xc3')))
        elif op == "replace" and data:
            data[pos] = draw(st.integers(0, 255))
        else:
            del data[pos:]
    return bytes(data)


@st.composite
def deep(draw: st.DrawFn) -> str:
    """Nesting around the depth limit, balanced or not."""
    n = draw(st.integers(0, 200))
    opener = draw(st.sampled_from(["[", '{"k":']))
    closer = "]" if opener == "[" else "}"
    inner = opener * n + "1" + closer * draw(st.integers(0, n))
    return '{"type":"t","payload":' + inner + "}"


any_frame = (
    frames()
    | frames().map(lambda s: s.encode("utf-8"))
    | mutated()
    | deep()
    | st.binary(max_size=64)
    | st.text(max_size=32)
)

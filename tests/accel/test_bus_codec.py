"""Bus frames (Redis backend): native codec against its pure twin.

Valid frames round-trip identically; truncated, mutated and arbitrary bytes
give the same outcome (value, or the same error class, kind and position)
from both; wrong argument types raise the same class.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from falcon_pachinko import _accel, _pure
from falcon_pachinko.exceptions import BusFrameError

from .outcome import outcome

_native = pytest.importorskip(
    "falcon_pachinko._native", reason="differential tests need the built native module"
)

TWINS = [_pure, _native]

ids = st.text(max_size=12)
texts = st.text(max_size=40)
payloads = st.one_of(texts, st.binary(max_size=40))
kinds = st.sampled_from(list(_pure.BUS_KINDS))


@st.composite
def valid_frames(draw: st.DrawFn) -> tuple[Any, ...]:
    return (
        draw(kinds),
        draw(ids),
        draw(st.lists(ids, max_size=5)),
        draw(st.text(max_size=8)),
        draw(payloads),
    )


def encoded(args: tuple[Any, ...]) -> bytes:
    return _pure.encode_bus_frame(*args)  # type: ignore[no-any-return]


def test_same_names_and_signatures() -> None:
    assert _native.BUS_KINDS == _pure.BUS_KINDS
    for name in ("encode_bus_frame", "decode_bus_frame"):
        shape = [
            (p.name, p.default) for p in inspect.signature(getattr(_pure, name)).parameters.values()
        ]
        native = [
            (p.name, p.default)
            for p in inspect.signature(getattr(_native, name)).parameters.values()
        ]
        assert native == shape, name
    assert _accel.decode_bus_frame in (_pure.decode_bus_frame, _native.decode_bus_frame)


@settings(max_examples=300)
@given(args=valid_frames())
def test_valid_frames_round_trip_identically(args: tuple[Any, ...]) -> None:
    frame = outcome(_native.encode_bus_frame, *args)
    assert frame == outcome(_pure.encode_bus_frame, *args)
    kind, target, exclude, origin, payload = args
    for twin in TWINS:
        assert twin.decode_bus_frame(frame[1]) == (kind, target, tuple(exclude), origin, payload)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(args=valid_frames(), data=st.data())
def test_truncated_frames_rejected_identically(args: tuple[Any, ...], data: st.DataObject) -> None:
    frame = encoded(args)
    cut = data.draw(st.integers(0, len(frame) - 1))
    native = outcome(_native.decode_bus_frame, frame[:cut])
    assert native == outcome(_pure.decode_bus_frame, frame[:cut])
    assert native[0] == "err" and native[1] is BusFrameError


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(args=valid_frames(), data=st.data())
def test_mutated_frames_agree(args: tuple[Any, ...], data: st.DataObject) -> None:
    """Hostile frames: flipped bytes, inserted garbage, huge claimed lengths."""
    frame = bytearray(encoded(args))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["set", "insert", "delete"]))
        at = data.draw(st.integers(0, len(frame)))
        if op == "set" and at < len(frame):
            frame[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            frame[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        elif frame:
            del frame[min(at, len(frame) - 1)]
    hostile = bytes(frame)
    assert outcome(_native.decode_bus_frame, hostile) == outcome(_pure.decode_bus_frame, hostile)


@settings(max_examples=400)
@given(frame=st.binary(max_size=64), max_size=st.sampled_from([0, 8, 1 << 24]))
@example(frame=b"PB\x01\x00\x00\x00\x00\x00\xff\xff", max_size=1 << 24)
@example(frame=b"PB\x01\x01\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff", max_size=1 << 24)
@example(frame=b"PB\x01\x01\x00\x02\xed\xa0\x00\x00\x00\x00\x00\x00\x00\x00", max_size=64)
def test_arbitrary_bytes_agree(frame: bytes, max_size: int) -> None:
    native = outcome(_native.decode_bus_frame, frame, max_size)
    assert native == outcome(_pure.decode_bus_frame, frame, max_size)


@pytest.mark.parametrize(
    "args",
    [
        ("nope", "", None, "n", ""),
        (1, "", None, "n", ""),
        ("room", 1, None, "n", ""),
        ("room", "r", [1], "n", ""),
        ("room", "r", 5, "n", ""),
        ("room", "r", None, b"n", ""),
        ("room", "r", None, "n", 1),
        ("room", "r", None, "n", bytearray(b"x")),
        ("room", "\ud800", None, "n", ""),
        ("room", "r", None, "n", "\udfff"),
        ("room", "r", None, "n" * 256, ""),
        ("room", "r" * 65536, None, "n", ""),
        ("room", "r", ["x"] * 65536, "n", ""),
    ],
)
def test_bad_encode_arguments_agree(args: tuple[Any, ...]) -> None:
    native = outcome(_native.encode_bus_frame, *args)
    assert native[0] == "err"
    assert native == outcome(_pure.encode_bus_frame, *args)


@pytest.mark.parametrize("frame", ["PB", bytearray(b"PB"), memoryview(b"PB"), None])
def test_decode_takes_bytes_only(frame: Any) -> None:
    for twin in TWINS:
        with pytest.raises(TypeError):
            twin.decode_bus_frame(frame)


def test_errors_carry_kind_and_position() -> None:
    frame = _pure.encode_bus_frame("room", "lobby", ["a"], "n1", "hi")
    for twin in TWINS:
        with pytest.raises(BusFrameError) as info:
            twin.decode_bus_frame(frame + b"!")
        assert (info.value.kind, info.value.position) == ("trailing", len(frame))
        with pytest.raises(BusFrameError) as info:
            twin.decode_bus_frame(b"XX" + frame[2:])
        assert (info.value.kind, info.value.position) == ("magic", 0)
        with pytest.raises(BusFrameError) as info:
            twin.decode_bus_frame(frame, max_size=4)
        assert info.value.kind == "too_large"

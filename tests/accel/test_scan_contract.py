"""Frame-scan contract: the Rust core's spec examples, run against each twin.

Ported from src-rust/frame.rs's tests so that the pure twin (the
specification) is held to the same examples, kind and byte position
included, and the native binding is checked through Python too.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from falcon_pachinko.exceptions import FrameError

MAX_SIZE = 1 << 20
MAX_DEPTH = 32


def ok(impl: ModuleType, frame: str | bytes) -> tuple[str, bytes | None]:
    tag, payload = impl.scan_frame(frame, key="type", max_size=MAX_SIZE, max_depth=MAX_DEPTH)
    return tag, None if payload is None else bytes(payload)


def err(impl: ModuleType, frame: str | bytes, **limits: int) -> tuple[str, int]:
    with pytest.raises(FrameError) as info:
        impl.scan_frame(
            frame,
            key="type",
            max_size=limits.get("max_size", MAX_SIZE),
            max_depth=limits.get("max_depth", MAX_DEPTH),
        )
    return info.value.kind, info.value.position


def test_finds_tag_and_payload_in_any_order(impl: ModuleType) -> None:
    assert ok(impl, '{"type":"a","payload":{"x":1}}') == ("a", b'{"x":1}')
    assert ok(impl, ' { "payload" : [1, 2] , "type" : "b" } ') == ("b", b"[1, 2]")
    assert ok(impl, '{"type":"c"}') == ("c", None)
    assert ok(impl, '{"type":"c","payload":null}') == ("c", None)


def test_nested_type_keys_are_ignored_and_the_last_duplicate_wins(impl: ModuleType) -> None:
    assert ok(impl, '{"payload":{"type":"inner"},"type":"outer"}')[0] == "outer"
    assert ok(impl, '{"type":"first","type":"second"}')[0] == "second"
    assert err(impl, b'{"type":"first","type":2}') == ("tag_type", 23)


def test_escaped_keys_and_tags_are_decoded(impl: ModuleType) -> None:
    assert ok(impl, '{"\\u0074ype":"x\\u00e9\\n"}')[0] == "x\u00e9\n"
    assert ok(impl, '{"type":"\\ud83d\\ude00"}')[0] == "\U0001f600"
    assert err(impl, b'{"type":"\\ud83d"}') == ("escape", 8)
    assert err(impl, b'{"\\udc00":1,"type":"a"}') == ("escape", 1)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b"", ("eof", 0)),
        (b"[1]", ("not_object", 0)),
        (b'{"type":"a"} x', ("trailing", 13)),
        (b"{}", ("missing_tag", 0)),
        (b'{"type":"a"', ("eof", 11)),
        (b'{"type":tru}', ("syntax", 11)),
        (b'{"type":1.}', ("syntax", 9)),
        (b'{"a":"\x01"}', ("syntax", 6)),
        (b'{"a":[1,],"type":"x"}', ("syntax", 8)),
        (b'{"type":"\xff"}', ("utf8", 9)),
        (b"{,}", ("syntax", 1)),
    ],
)
def test_bad_frames_are_refused_with_kind_and_position(
    impl: ModuleType, frame: bytes, expected: tuple[str, int]
) -> None:
    assert err(impl, frame) == expected


def test_depth_and_size_limits_hold_without_recursion(impl: ModuleType) -> None:
    deep = '{"type":"a","payload":' + "[" * 100_000 + "]" * 100_000 + "}"
    assert err(impl, deep) == ("depth", 22 + 31)
    assert err(impl, b'{"type":"a"}', max_size=4, max_depth=8) == ("too_large", 4)


def test_a_custom_key_is_honoured(impl: ModuleType) -> None:
    found = impl.scan_frame(
        '{"kind":"k","type":1}', key="kind", max_size=MAX_SIZE, max_depth=MAX_DEPTH
    )
    assert found[0] == "k"


@pytest.mark.parametrize("frame", [1, None, 1.5, ["{}"], bytearray(b"{}")], ids=repr)
def test_a_frame_that_is_not_str_or_bytes_is_a_type_error(impl: ModuleType, frame: object) -> None:
    with pytest.raises(TypeError):
        impl.scan_frame(frame, key="type", max_size=MAX_SIZE, max_depth=MAX_DEPTH)

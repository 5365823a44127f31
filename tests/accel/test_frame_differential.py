"""Native scan_frame/TagTable against the pure twin, and against stdlib json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from falcon_pachinko import _pure

from .outcome import outcome
from .strategies import any_frame, frames

_native = pytest.importorskip(
    "falcon_pachinko._native", reason="differential tests need the built native module"
)

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.json*"))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(frame=any_frame, max_depth=st.sampled_from([1, 2, 8, 64]))
@example(frame='{"type":"a"}', max_depth=0)
@example(frame="\ud800", max_depth=8)
@example(frame='{"type":"\ud800"}', max_depth=8)
@example(frame=b'{"type":"\\ud83d\\ude00","payload":1}', max_depth=8)
def test_scan_frame_twins_agree(frame: str | bytes, max_depth: int) -> None:
    for key in ("type", "payload"):
        native = outcome(_native.scan_frame, frame, key=key, max_size=1 << 20, max_depth=max_depth)
        pure = outcome(_pure.scan_frame, frame, key=key, max_size=1 << 20, max_depth=max_depth)
        assert native == pure


# The native scanner searches a string's first 32 bytes with a table and the
# rest with memchr (frame.rs, SHORT_RUN): each kind of byte that stops a
# string's run, placed either side of that limit, in a key, the tag and a
# payload value, with the string closed or not.
@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100])
@pytest.mark.parametrize("stop", ['"', "\\n", "\\u00e9", "\x01", "\x1f", "", "\u00e9"])
def test_string_run_boundaries_agree(length: int, stop: str) -> None:
    run = "a" * length
    texts = [
        f'{{"type":"{run}{stop}{run}"}}',
        f'{{"{run}{stop}":1,"type":"t"}}',
        f'{{"type":"t","payload":{{"k":"{run}{stop}{run}"}}}}',
        f'{{"type":"{run}{stop}',
    ]
    for text in texts:
        for frame in (text, text.encode()):
            native = outcome(_native.scan_frame, frame, key="type", max_size=1 << 20, max_depth=8)
            pure = outcome(_pure.scan_frame, frame, key="type", max_size=1 << 20, max_depth=8)
            assert native == pure, frame


@given(frame=any_frame, max_size=st.integers(0, 80))
def test_size_limit_agrees(frame: str | bytes, max_size: int) -> None:
    native = outcome(_native.scan_frame, frame, key="type", max_size=max_size, max_depth=64)
    assert native == outcome(_pure.scan_frame, frame, key="type", max_size=max_size, max_depth=64)


@given(frame=any_frame)
def test_tag_table_twins_agree(frame: str | bytes) -> None:
    tags = {"a": 0, "": 1, "é": 2, "x\n": 3}
    assert outcome(_native.TagTable(tags).scan, frame) == outcome(_pure.TagTable(tags).scan, frame)


@settings(max_examples=300)
@given(frame=frames())
def test_accepted_frames_match_stdlib_json(frame: str) -> None:
    """An accepted frame is JSON whose (last) "type" is the returned tag."""
    result = outcome(_pure.scan_frame, frame)
    if result[0] != "ok":
        return
    tag, payload = result[1]
    decoded = json.loads(frame)
    assert decoded["type"] == tag
    if payload is None:
        assert decoded.get("payload") is None
    else:
        assert json.loads(payload) == decoded["payload"]


@given(frame=st.binary(max_size=48) | st.text(max_size=24))
def test_rejected_json_is_rejected_by_stdlib_too(frame: str | bytes) -> None:
    """Whatever stdlib json refuses outright, the scanner refuses too."""
    try:
        json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        assert outcome(_pure.scan_frame, frame)[0] == "err"


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_cases_agree(path: Path) -> None:
    """Inputs that once diverged or crashed stay permanent cases."""
    frame = path.read_bytes()
    assert outcome(_native.scan_frame, frame) == outcome(_pure.scan_frame, frame)


def _decode_len(data: str | bytes) -> int:
    if data == b"[0]":
        raise ValueError("decoder refused")
    return len(data)


def _refuse_null(data: str | bytes) -> int:
    """A decoder like ``payload: Struct``: a missing/null payload is invalid."""
    if data == b"null":
        raise ValueError("null refused")
    return _decode_len(data)


@settings(max_examples=300)
@given(frame=any_frame, whole=st.booleans())
def test_route_twins_agree(frame: str | bytes, whole: bool) -> None:
    """Scan + lookup + decode in one call: same entry, value or exception."""
    tags = {"a": 0, "t": 1, "": 2}
    routes = [("entry-a", _decode_len), ("entry-t", None), ("entry-empty", _refuse_null)]
    native = _native.TagTable(tags, routes=routes, whole_frame=whole)
    pure = _pure.TagTable(tags, routes=routes, whole_frame=whole)
    assert outcome(native.route, frame) == outcome(pure.route, frame)


def test_route_decodes_payload_or_whole_frame() -> None:
    routes = [("E", _decode_len)]
    for mod in (_native, _pure):
        table = mod.TagTable({"a": 0}, routes=routes)
        assert table.route('{"type":"a","payload":[1]}') == ("E", 3)
        # a missing or null payload is decoded from b"null" (len 4), so the
        # decoder (the handler's annotation) decides whether it is valid
        assert table.route('{"type":"a"}') == ("E", 4)
        assert table.route('{"type":"a","payload":null}') == ("E", 4)
        assert table.route('{"type":"b"}') == (None, ("b", None))
        assert table.route('{"type":"b","payload":[2]}') == (None, ("b", b"[2]"))
        with pytest.raises(ValueError, match="decoder refused"):
            table.route('{"type":"a","payload":[0]}')
        whole = mod.TagTable({"a": 0}, routes=routes, whole_frame=True)
        assert whole.route('{"type":"a"}') == ("E", 12)

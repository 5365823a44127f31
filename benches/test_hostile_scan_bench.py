"""frame-1mib/<case>: worst-case scan cost of 1 MiB token-dense frames.

Issue 10, item 5: the pure scanner's cost per MiB must stay within 5x of
native whatever the client sends. Rows: native, pure, and msgspec decoding
the same envelope into ``Raw`` (the floor the pure fast path builds on).
Invalid cases put the error early or late; each row catches the error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from falcon_pachinko import _pure

_native = pytest.importorskip("falcon_pachinko._native")


class Envelope(msgspec.Struct):
    type: msgspec.Raw = msgspec.Raw(b"")
    payload: msgspec.Raw = msgspec.Raw(b"")


HEAD = b'{"type":"x","payload":['
N = 1 << 20
CASES: dict[str, bytes] = {
    "ints": HEAD + b"1," * 524_000 + b"1]}",
    "empty-arrays": HEAD + b"[]," * 349_000 + b"[]]}",
    "empty-objects": HEAD + b"{}," * 349_000 + b"{}]}",
    "short-strings": HEAD + b'"",' * 349_000 + b'""]}',
    "escapes": HEAD + b'"' + b"\\n" * 520_000 + b'"]}',
    "top-level-keys": b'{"type":"x",' + b",".join(b'"k%d":1' % i for i in range(95_000)) + b"}",
    "chains-60-deep": HEAD + (b"[" * 60 + b"]" * 60 + b",") * 8_600 + b"1]}",
    "invalid-early": HEAD + b"1,]" + b"1," * 524_000 + b"1]}",
    "invalid-late-ints": HEAD + b"1," * 524_000 + b"1,]}",
    "invalid-late-arrays": HEAD + b"[]," * 349_000 + b"[],]}",
    "invalid-late-top-level": b'{"type":"x",' + b'"a":1,' * 170_000 + b"}",
    "lone-surrogate": HEAD + b'"\\ud800",' + b"1," * 520_000 + b"1]}",
    "tag-not-string": b'{"payload":[' + b"1," * 524_000 + b'1],"type":1}',
    # Valid frames whose verdict is a position, with the densest containers.
    "tag-not-string-arrays": b'{"payload":[' + b"[]," * 349_000 + b'[]],"type":1}',
    "lone-surrogate-arrays": HEAD + b'"\\ud800",' + b"[]," * 349_000 + b"[]]}",
    "too-deep-late": HEAD + b"[]," * 349_000 + b"[" * 70 + b"]" * 70 + b"]}",
    "surrogate-key": b'{"type":"x",' + b'"\\ud800":1,' * 80_000 + b'"a":1}',
    # Malformed late after deep or surrogate-bearing content.
    "invalid-late-chains": HEAD + (b"[" * 60 + b"]" * 60 + b",") * 8_600 + b"]}",
    "invalid-late-surrogate": HEAD + b'"\\ud800",' + b"[]," * 349_000 + b"[],]}",
}
ENVELOPE = msgspec.json.Decoder(Envelope)
IMPLS: dict[str, Callable[[bytes], Any]] = {
    "native": lambda f: _native.scan_frame(f, max_size=N, max_depth=64),
    "pure": lambda f: _pure.scan_frame(f, max_size=N, max_depth=64),
    "baseline-msgspec-raw": ENVELOPE.decode,
}


def run(fn: Callable[[bytes], Any], frame: bytes) -> None:
    with contextlib.suppress(ValueError, RecursionError):  # FrameError, msgspec errors
        fn(frame)


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("case", list(CASES))
def test_scan_one_mib(benchmark: Any, case: str, impl: str) -> None:
    frame = CASES[case]
    assert len(frame) <= N
    benchmark.group = f"frame-1mib/{case}"
    benchmark.name = impl
    benchmark.pedantic(run, args=(IMPLS[impl], frame), rounds=3, iterations=1)

"""frame/<case>: the tag scan, native vs pure vs msgspec decoding an envelope.

Run with ``make bench``; ``make test`` runs each once as a smoke test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from falcon_pachinko import _pure

_native = pytest.importorskip("falcon_pachinko._native")


class Envelope(msgspec.Struct):
    type: str
    payload: msgspec.Raw = msgspec.Raw()


class Chat(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    room: str


CASES = {
    "small": '{"type":"chat","payload":{"text":"hello","room":"lobby"}}',
    "medium": '{"type":"chat","payload":{"text":"' + "x" * 900 + '","room":"lobby"}}',
    "nested": '{"payload":{"items":'
    + str(list(range(200)))
    + ',"meta":{"a":{"b":[1,2,{"c":null}]}}},"type":"chat"}',
}
IMPLS: dict[str, Callable[[str], Any]] = {
    "native": _native.scan_frame,
    "pure": _pure.scan_frame,
    "native-table": _native.TagTable({"chat": 0}).scan,
    "baseline-msgspec": msgspec.json.Decoder(Envelope).decode,
}


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("case", list(CASES))
def test_frame_scan(benchmark: Any, case: str, impl: str) -> None:
    benchmark.group = f"frame/{case}"
    benchmark.name = impl
    frame = CASES[case]
    result = benchmark(IMPLS[impl], frame)
    tag = result.type if isinstance(result, Envelope) else result[-2]
    assert tag == "chat"

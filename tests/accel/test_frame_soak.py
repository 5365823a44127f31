"""Differential soak: the pure and native scans on every kind of frame.

No ``max_examples`` here on purpose: ``make test`` runs the default profile
(a smoke run); ``make fuzz`` loads the ``slow`` profile (conftest) and bounds
the run with FUZZ_SECONDS. Every input that ever diverged or crashed belongs
in ``corpus/`` (``test_frame_differential.test_corpus_cases_agree``) and, for
the fuzz targets' artifacts, ``fuzz/artifacts`` (``test_fuzz_artifacts``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from falcon_pachinko import _pure

from .outcome import outcome
from .strategies import any_frame, deep, frames

_native = pytest.importorskip("falcon_pachinko._native", reason="soak needs the native module")

ARTIFACTS = Path(__file__).parents[2] / "fuzz" / "artifacts"
REPLAYED = sorted(p for p in ARTIFACTS.glob("*/*") if p.is_file()) if ARTIFACTS.is_dir() else []

#: Frames big enough to take the pure fast path's whole-buffer branches
#: (bracket-depth regex and passes, string masking).
wide = st.builds(
    lambda items, sep: '{"type":"t","payload":[' + sep.join(items) + "]}",
    st.lists(
        st.sampled_from(["1", "[]", "{}", '"[{"', '"\\\\"', '"\\""', "[[1]]", '{"a":[]}']),
        max_size=80,
    ),
    st.sampled_from([",", " , ", ",\n"]),
)


@given(
    frame=any_frame | wide | wide.map(lambda s: s[: len(s) // 2]) | deep(),
    max_depth=st.sampled_from([1, 2, 3, 5, 8, 64, 300]),
    key=st.sampled_from(["type", "payload", "a"]),
)
def test_soak_scan_twins_agree(frame: str | bytes, max_depth: int, key: str) -> None:
    native = outcome(_native.scan_frame, frame, key=key, max_size=1 << 20, max_depth=max_depth)
    assert native == outcome(
        _pure.scan_frame, frame, key=key, max_size=1 << 20, max_depth=max_depth
    )


@given(frame=frames())
def test_soak_tag_table_twins_agree(frame: str) -> None:
    tags = {"t": 0, "a": 1}
    assert outcome(_native.TagTable(tags).scan, frame) == outcome(_pure.TagTable(tags).scan, frame)


def test_fuzz_artifacts() -> None:
    """Inputs a cargo-fuzz target once failed on: the twins agree on them.

    One test over however many there are (none yet), so an empty folder is
    a pass, not a skip.
    """
    for path in REPLAYED:
        frame = path.read_bytes()
        assert outcome(_native.scan_frame, frame) == outcome(_pure.scan_frame, frame), path

"""Native FanoutHub against its pure twin on random operation sequences."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falcon_pachinko import _pure

from .outcome import outcome
from .sends import ScriptedSend

_native = pytest.importorskip(
    "falcon_pachinko._native", reason="differential tests need the built native module"
)

IDS = st.sampled_from(["c0", "c1", "c2", "c3", "c4", "c5"])
MODES = st.sampled_from(["ok", "ok", "suspend", "fail"])
ROOMS = st.sampled_from(["r0", "r1", "r2"])
USERS = st.sampled_from(["u0", "u1"])
FRAME = st.sampled_from([b"f0", b"f1", b"f2", "t3"])
EXCLUDE = st.none() | st.sets(IDS, max_size=3) | st.lists(IDS, max_size=2)

OPS = st.one_of(
    st.tuples(st.just("add"), IDS, MODES, st.booleans()),
    st.tuples(st.just("remove"), IDS),
    st.tuples(st.just("join"), IDS, ROOMS),
    st.tuples(st.just("leave"), IDS, ROOMS),
    st.tuples(st.just("set_user"), IDS, st.none() | USERS),
    st.tuples(st.just("activate"), IDS),
    st.tuples(st.just("mark_closing"), IDS),
    st.tuples(st.just("next_frame"), IDS),
    st.tuples(st.just("fanout_room"), ROOMS, FRAME, EXCLUDE),
    st.tuples(st.just("fanout_user"), USERS, FRAME, EXCLUDE),
    st.tuples(st.just("fanout_all"), FRAME, EXCLUDE),
    st.tuples(st.just("send_one"), IDS, FRAME),
    st.tuples(st.just("state"), IDS),
    st.tuples(st.just("queued_count"), IDS),
    st.tuples(st.just("dropped_count"), IDS),
    st.tuples(st.just("members"), ROOMS),
    st.tuples(st.just("user_members"), USERS),
    st.tuples(st.just("rooms_of"), IDS),
)


def describe(item: Any) -> Any:
    """Comparable form of a fan-out entry (iterators and exceptions by kind)."""
    if isinstance(item, tuple):
        return tuple(describe(x) for x in item)
    if isinstance(item, BaseException):
        return (type(item).__name__, item.args)
    if hasattr(item, "send") and hasattr(item, "throw"):
        return "iterator"
    return item


def normalise(name: str, result: tuple[Any, ...]) -> tuple[Any, ...]:
    """Order of recipients and listings is unspecified: compare sorted."""
    if result[0] != "ok":
        return result
    value = result[1]
    if name.startswith("fanout_") or name == "send_one":
        parts = (value.suspended, value.failed, value.to_close, value.queued)
        return ("ok", value.sent, value.dropped, *(sorted(describe(x) for x in p) for p in parts))
    if name in {"members", "user_members", "rooms_of"}:
        return ("ok", sorted(value))
    return result


def apply(hub: Any, sends: dict[str, ScriptedSend], op: tuple[Any, ...]) -> tuple[Any, ...]:
    name, *args = op
    if name == "add":
        conn_id, mode, pending = args
        send = ScriptedSend(conn_id, mode)
        result = outcome(lambda: hub.add(conn_id, send, pending=pending))
        if result[0] == "ok":
            sends[conn_id] = send
        return result
    return normalise(name, outcome(getattr(hub, name), *args))


@settings(max_examples=300)
@given(
    ops=st.lists(OPS, max_size=60),
    capacity=st.integers(1, 3),
    policy=st.sampled_from(["drop_oldest", "drop_newest", "close"]),
)
def test_hub_twins_agree(ops: list[tuple[Any, ...]], capacity: int, policy: str) -> None:
    native = _native.FanoutHub(capacity=capacity, policy=policy)
    pure = _pure.FanoutHub(capacity=capacity, policy=policy)
    native_sends: dict[str, ScriptedSend] = {}
    pure_sends: dict[str, ScriptedSend] = {}
    for op in ops:
        assert apply(native, native_sends, op) == apply(pure, pure_sends, op), op
        assert native.dropped_total == pure.dropped_total
        assert len(native) == len(pure)
        assert sorted(native.rooms()) == sorted(pure.rooms())
    assert native_sends.keys() == pure_sends.keys()
    for conn_id, send in pure_sends.items():
        if conn_id in pure:
            for query in ("state", "queued_count", "dropped_count"):
                assert getattr(native, query)(conn_id) == getattr(pure, query)(conn_id)
        # Same bytes reached the same peers, in the same order.
        assert native_sends[conn_id].frames == send.frames


@pytest.mark.parametrize("policy", ["nope", ""])
def test_bad_policy_is_refused_alike(policy: str) -> None:
    def build(impl: Any, **options: Any) -> Any:
        return outcome(lambda: impl.FanoutHub(**options))

    assert build(_native, policy=policy) == build(_pure, policy=policy)
    for capacity in (0, -1, 1.5, "4"):
        assert build(_native, capacity=capacity) == build(_pure, capacity=capacity)

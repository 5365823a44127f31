"""RedisBackend in one process: the bus half of the backend contract, the
presence mirror's ordering rules, hostile frames, bounds, and an unreachable
Redis (local delivery keeps working, losses are counted). The cross-process
behaviour is in tests/integration/test_redis_cluster.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import pytest

from falcon_pachinko import WebSocketConnectionManager, WebSocketConnectionNotFoundError, _accel
from falcon_pachinko.backends.presence import Change as _Change
from falcon_pachinko.backends.presence import Record as _Record
from falcon_pachinko.backends.redis import RedisBackend

from ..support.redis_server import free_port
from ..support.stubs import StubWS

_encode = msgspec.msgpack.Encoder().encode


def control(origin: str, change: _Change) -> bytes:
    return _accel.encode_bus_frame("control", "", None, origin, _encode(change))


async def manager_on(url: str | None = None, **options: Any) -> WebSocketConnectionManager:
    backend = RedisBackend(url or f"redis://127.0.0.1:{free_port()}/0", **options)
    return WebSocketConnectionManager(backend)


def backend_of(manager: WebSocketConnectionManager) -> RedisBackend:
    assert isinstance(manager.backend, RedisBackend)
    return manager.backend


async def test_frames_from_other_nodes_are_delivered_locally_once() -> None:
    manager = await manager_on()
    backend = backend_of(manager)
    a, b = StubWS(), StubWS()
    await manager.add_connection("a", a)
    await manager.add_connection("b", b)
    await manager.join_room("a", "r")
    await manager.join_room("b", "r")
    await manager.set_user("b", "u")
    text = '{"x":1}'
    await backend._on_frame(_accel.encode_bus_frame("room", "r", ["a"], "other", text))
    await backend._on_frame(_accel.encode_bus_frame("user", "u", None, "other", b"\x00"))
    await backend._on_frame(_accel.encode_bus_frame("conn", "a", None, "other", "1"))
    await backend._on_frame(_accel.encode_bus_frame("conn", "zz", None, "other", "1"))
    await backend._on_frame(_accel.encode_bus_frame("all", "", ["b"], "other", "2"))
    # A node's own frames come back from Redis too: never delivered twice.
    await backend._on_frame(_accel.encode_bus_frame("all", "", None, backend.node, "3"))
    assert a.frames == ["1", "2"]
    assert b.frames == [text, b"\x00"]
    assert backend.bus_stats()["received"] == 6


async def test_hostile_frames_are_counted_and_ignored() -> None:
    manager = await manager_on()
    backend = backend_of(manager)
    ws = StubWS()
    await manager.add_connection("a", ws)
    await manager.join_room("a", "r")
    for junk in (b"", b"PB\x01", b"\x00" * 40, "text not bytes"):
        await backend._on_frame(junk)
    await backend._on_frame(_accel.encode_bus_frame("control", "", None, "n2", b"\xc1garbage"))
    await backend._on_frame(_accel.encode_bus_frame("control", "", None, "n2", "[1]"))
    assert backend.bus_stats()["rejected_frames"] == 6
    assert ws.frames == []
    assert manager.room_size("r") == 1


async def test_presence_mirror_applies_changes_in_sequence_order() -> None:
    manager = await manager_on()
    backend = backend_of(manager)
    await manager.add_connection("local", StubWS())
    await manager.join_room("local", "r")
    await backend._on_frame(control("n2", _Change(2, "set", "x", "u", ["r", "s"])))
    await backend._on_frame(control("n2", _Change(1, "set", "x", None, [])))  # stale
    await backend._on_frame(control("n2", _Change(3, "set", "y", "u", ["r"])))
    assert manager.room_members("r") == ["local", "x", "y"]
    assert manager.room_size("s") == 1
    assert manager.user_connections("u") == ["x", "y"]
    assert manager.get_rooms_by_prefix("") == ["r", "s"]
    assert await backend.snapshot() == frozenset({"local", "x", "y"})
    assert backend.owner_of("y") == "n2" and backend.owner_of("zz") is None

    await backend._on_frame(control("n2", _Change(4, "del", "x")))
    assert manager.room_members("r") == ["local", "y"]
    snap = {"z": _Record(None, ["t"])}
    await backend._on_frame(control("n2", _Change(4, "snap", snap=snap)))
    assert manager.room_members("r") == ["local"] and manager.room_size("t") == 1
    await backend._on_frame(control("n2", _Change(4, "bye")))
    assert manager.room_size("t") == 0
    assert backend.bus_stats()["nodes"] == 1


async def test_a_silent_node_leaves_presence_after_the_ttl() -> None:
    manager = await manager_on(ttl=0.5)
    backend = backend_of(manager)
    await backend._on_frame(control("n2", _Change(1, "set", "x", None, ["r"])))
    assert manager.room_size("r") == 1
    backend._presence.nodes["n2"].seen = time.monotonic() - 0.6  # as if its heartbeats stopped
    assert manager.room_size("r") == 0
    await backend._on_frame(control("n2", _Change(1, "hb")))  # a heartbeat revives it
    assert manager.room_size("r") == 1


async def test_send_to_connection_on_another_node_goes_over_the_bus() -> None:
    manager = await manager_on()
    backend = backend_of(manager)
    await backend._on_frame(control("n2", _Change(1, "set", "x", None, [])))
    result = await manager.send_to_connection("x", {"hi": 1})
    assert (result.recipients, result.queued) == (1, 1)
    item = backend._queue[-1]
    assert item[0] == "pub" and item[1].endswith(":node:n2")
    assert _accel.decode_bus_frame(item[2]) == ("conn", "x", (), backend.node, '{"hi":1}')
    with pytest.raises(WebSocketConnectionNotFoundError):
        await manager.send_to_connection("nowhere", 1)


async def test_the_publish_queue_is_bounded_and_losses_are_counted() -> None:
    manager = await manager_on(max_pending=3)
    backend = backend_of(manager)
    ws = StubWS()
    await manager.add_connection("a", ws)
    await manager.join_room("a", "r")
    for i in range(10):
        result = await manager.broadcast_to_room("r", i)
        assert result.sent == 1  # local delivery does not wait for the bus
    assert len(backend._queue) <= 3 + 2  # presence items (add, join) are not dropped
    assert backend.bus_stats()["undelivered"] == 10 - 3 + 2
    assert ws.frames == [str(i) for i in range(10)]


async def test_unreachable_redis_startup_is_bounded_and_delivery_stays_local() -> None:
    manager = await manager_on(connect_timeout=0.3, max_backoff=0.1)
    backend = backend_of(manager)
    started = time.monotonic()
    await manager.start()
    assert time.monotonic() - started < 2
    try:
        ws = StubWS()
        await manager.add_connection("a", ws)
        await manager.join_room("a", "r")
        result = await manager.broadcast_to_room("r", "hi")
        assert result.sent == 1 and ws.frames == ['"hi"']
        stats = manager.stats()["bus"]
        assert not stats["connected"] and stats["outages"] == 1
    finally:
        stopped = time.monotonic()
        await manager.stop()
        assert time.monotonic() - stopped < 5
    assert backend._tasks == []


def test_constructor_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        RedisBackend("redis://127.0.0.1:1/0", ttl=0)


async def test_state_proxy_is_dict_like_and_queues_writes_in_order() -> None:
    manager = await manager_on()
    backend = backend_of(manager)
    with pytest.raises(WebSocketConnectionNotFoundError):
        backend.state_for("a")
    await manager.add_connection("a", StubWS())
    state = backend.state_for("a")
    assert backend.state_for("a") is state
    state["n"] = 1
    state.update(name="x")
    del state["n"]
    assert dict(state) == {"name": "x"} and len(state) == 1 and "n" not in state
    with pytest.raises(TypeError, match="JSON"):
        state["bad"] = object()
    with pytest.raises(TypeError):
        state[1] = 2  # type: ignore[index]
    assert await backend.read_state("a") == {"name": "x"}
    writes = [item for item in backend._queue if item[0] == "state"]
    assert writes == [
        ("state", "a", "n", b"1"),
        ("state", "a", "name", b'"x"'),
        ("state", "a", "n", None),
    ]
    await manager.remove_connection("a")
    assert backend._queue[-1] == ("state_del", "a")


class _Batch:
    """Stands in for FastSubscriber: one batch of frames, then closed."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames
        self.closed = True
        self.error = "end of batch"
        self.wake = asyncio.Event()
        self.wake.set()

    def take(self) -> list[bytes]:
        frames, self.frames = self.frames, []
        return frames


async def test_own_frames_are_recognised_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    manager = await manager_on()
    backend = backend_of(manager)
    ws = StubWS()
    await manager.add_connection("a", ws)
    await manager.join_room("a", "r")
    own = [_accel.encode_bus_frame(k, "r", None, backend.node, "1") for k in ("room", "all")]
    other = _accel.encode_bus_frame("room", "r", None, "other", "2")
    # Another node whose id starts like ours is still someone else.
    longer = _accel.encode_bus_frame("room", "r", None, backend.node + "x", "3")
    decoded: list[bytes] = []
    real = _accel.decode_bus_frame

    def counting(frame: bytes, *args: Any) -> Any:
        decoded.append(frame)
        return real(frame, *args)

    monkeypatch.setattr(_accel, "decode_bus_frame", counting)
    with pytest.raises(ConnectionError, match="end of batch"):
        await backend._receive_fast(_Batch([*own, other, longer, b"PB"]))  # type: ignore[arg-type]
    assert decoded == [other, longer, b"PB"]
    assert ws.frames == ["2", "3"]
    stats = backend.bus_stats()
    assert (stats["received"], stats["rejected_frames"]) == (5, 1)

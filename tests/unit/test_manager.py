"""WebSocketConnectionManager contract (§5.7), run under both implementations."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from falcon_pachinko import (
    InProcessBackend,
    WebSocketConnectionManager,
    WebSocketConnectionNotFoundError,
)
from falcon_pachinko.exceptions import DeliveryTimeoutError, SlowConsumerError
from falcon_pachinko.websocket import RouteSpec

from ..support.stubs import StubWS


async def manager_with(*modes: str, room: str = "r", **options: Any) -> tuple[Any, list[StubWS]]:
    manager = WebSocketConnectionManager(**options)
    stubs = []
    for i, mode in enumerate(modes):
        ws = StubWS(mode)
        await manager.add_connection(f"c{i}", ws)
        await manager.join_room(f"c{i}", room)
        stubs.append(ws)
    return manager, stubs


async def test_registration_errors() -> None:
    manager, _ = await manager_with("ok")
    with pytest.raises(ValueError, match="Duplicate connection ID"):
        await manager.add_connection("c0", StubWS())
    with pytest.raises(WebSocketConnectionNotFoundError) as info:
        await manager.join_room("ghost", "r")
    assert isinstance(info.value, KeyError)
    with pytest.raises(WebSocketConnectionNotFoundError):
        await manager.send_to_connection("ghost", "x")
    await manager.remove_connection("ghost")  # idempotent


async def test_backend_mappings_and_snapshot() -> None:
    backend = InProcessBackend()
    manager = WebSocketConnectionManager(backend)
    ws = StubWS()
    await manager.add_connection("a", ws)
    await manager.join_room("a", "lobby")
    assert backend.websockets["a"] is ws
    assert backend.rooms["lobby"] == frozenset({"a"})
    assert await backend.snapshot("lobby") == frozenset({"a"})
    assert await backend.get_websocket("a") is ws
    with pytest.raises(TypeError):
        backend.websockets["b"] = ws  # type: ignore[index]
    await manager.leave_room("a", "lobby")
    assert "lobby" not in backend.rooms
    with pytest.raises(WebSocketConnectionNotFoundError):
        await backend.get_websocket("zz")
    assert RouteSpec(object).args == ()


async def test_broadcast_encodes_once_and_excludes() -> None:
    manager, stubs = await manager_with("ok", "ok", "ok")

    class Note(msgspec.Struct):
        text: str

    await manager.broadcast_to_room("r", Note("hi"), exclude={"c1"})
    assert stubs[0].frames == ['{"text":"hi"}'] and stubs[1].frames == []
    assert stubs[0].events[0] is stubs[2].events[0]  # one event object shared
    await manager.broadcast_to_room("nobody-here", "x")  # unknown room: no-op
    await manager.broadcast_to_room("r", b"\x00\x01")
    assert stubs[2].frames[-1] == b"\x00\x01"


async def test_failures_are_aggregated() -> None:
    manager, _ = await manager_with("ok", "fail")
    with pytest.raises(ConnectionResetError):
        await manager.broadcast_to_room("r", "one failure")
    manager, _ = await manager_with("fail", "ok", "fail")
    with pytest.raises(ExceptionGroup) as info:
        await manager.broadcast_to_room("r", "two failures")
    assert len(info.value.exceptions) == 2
    assert manager.stats()["failed_sends"] == 2


async def test_slow_peer_never_delays_the_others() -> None:
    manager, stubs = await manager_with("ok", "block", "ok", send_timeout=5)
    publish = asyncio.create_task(manager.publish_to_room("r", "fast"))
    await asyncio.wait_for(publish, 1)  # returns at once despite the blocked peer
    assert stubs[0].frames == ["fast"] and stubs[2].frames == ["fast"]
    with pytest.raises(DeliveryTimeoutError) as info:
        await manager.broadcast_to_room("r", "again", timeout=0.05)
    assert info.value.conn_id == "c1"
    assert stubs[0].frames == ["fast", "again"]
    stubs[1].gate.set()  # the slow peer recovers: it gets everything, in order
    await manager.broadcast_to_room("r", "third", timeout=1)
    assert stubs[1].frames == ["fast", "again", "third"]


async def test_timeout_zero_is_immediate() -> None:
    manager, _ = await manager_with("block")
    with pytest.raises(DeliveryTimeoutError):
        await asyncio.wait_for(manager.broadcast_to_room("r", "x", timeout=0), 0.5)


async def test_stalled_send_closes_the_peer_as_slow() -> None:
    manager, stubs = await manager_with("block", "ok", send_timeout=0.1)
    with pytest.raises(SlowConsumerError) as info:
        await manager.broadcast_to_room("r", "x", timeout=2)
    assert info.value.conn_id == "c0"
    assert stubs[0].close_code == 1013
    assert manager.stats()["slow_closes"] == 1
    assert stubs[1].frames == ["x"]


@pytest.mark.parametrize(
    ("policy", "expected_frames", "dropped"),
    [
        ("drop_oldest", ["m0", "m3", "m4"], 2),  # m0 was in flight
        ("drop_newest", ["m0", "m1", "m2"], 2),
    ],
)
async def test_overflow_policies(policy: str, expected_frames: list[str], dropped: int) -> None:
    manager, stubs = await manager_with("block", outbox_size=2, overflow=policy)
    for i in range(5):
        await manager.publish_to_room("r", f"m{i}")
    stats = manager.connection_stats("c0")
    assert stats == {"queued": 2, "dropped": dropped, "busy": True}
    stubs[0].gate.set()
    for _ in range(100):
        await asyncio.sleep(0)
    assert stubs[0].frames == expected_frames
    assert manager.stats()["dropped_frames"] == dropped


async def test_close_policy_closes_the_slow_peer() -> None:
    manager, stubs = await manager_with("block", "ok", outbox_size=1, overflow="close")
    for i in range(3):
        await manager.publish_to_room("r", f"m{i}")
    for _ in range(20):
        await asyncio.sleep(0)
    assert stubs[0].close_code == 1013
    assert stubs[1].frames == ["m0", "m1", "m2"]


async def test_users_rooms_and_queries() -> None:
    manager, stubs = await manager_with("ok", "ok", "ok", room="team:a")
    await manager.join_room("c2", "team:b")
    await manager.set_user("c0", "alice")
    await manager.set_user("c1", "alice")
    await manager.send_to_user("alice", {"dm": 1})
    assert stubs[0].frames == stubs[1].frames == ['{"dm":1}'] and stubs[2].frames == []
    assert sorted(manager.user_connections("alice")) == ["c0", "c1"]
    assert manager.room_size("team:a") == 3
    assert manager.get_rooms_by_prefix("team:") == ["team:a", "team:b"]
    seen = [ws async for ws in manager.connections(room="team:a", exclude={"c1"})]
    assert seen == [stubs[0], stubs[2]]
    await manager.broadcast_to_all("all", exclude=["c0"])
    assert stubs[2].frames[-1] == "all" and stubs[0].frames[-1] != "all"
    await manager.send_to_connection("c2", "direct")
    assert stubs[2].frames[-1] == "direct"
    await manager.remove_connection("c0")
    assert manager.user_connections("alice") == ["c1"]


async def test_pending_connection_gets_frames_after_activation() -> None:
    manager = WebSocketConnectionManager()
    ws = StubWS()
    await manager.add_connection("p", ws, pending=True)
    await manager.join_room("p", "r")
    await manager.publish_to_room("r", "early")
    assert ws.frames == []
    manager.activate("p")
    for _ in range(10):
        await asyncio.sleep(0)
    assert ws.frames == ["early"]
    await manager.publish_to_room("r", "late")
    assert ws.frames == ["early", "late"]


async def test_stop_closes_everyone_with_1001() -> None:
    manager, stubs = await manager_with("ok", "block")
    await manager.stop()
    assert [s.close_code for s in stubs] == [1001, 1001]


async def test_send_to_connection_waits_for_a_busy_peer_and_reports_failures() -> None:
    manager, stubs = await manager_with("block", "fail")
    sending = asyncio.create_task(manager.send_to_connection("c0", "one"))
    await asyncio.sleep(0.01)
    assert not sending.done()  # waits until the frame is handed over
    stubs[0].gate.set()
    await asyncio.wait_for(sending, 1)
    assert stubs[0].frames == ["one"]
    with pytest.raises(ConnectionResetError):
        await manager.send_to_connection("c1", "two")
    assert manager.stats()["failed_sends"] == 1

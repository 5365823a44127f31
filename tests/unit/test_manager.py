"""WebSocketConnectionManager contract (§5.7), run under both implementations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec
import pytest

from falcon_pachinko import (
    ConnectionBackend,
    DeliveryResult,
    InProcessBackend,
    LimitExceededError,
    WebSocketConnectionManager,
    WebSocketConnectionNotFoundError,
    WebSocketLike,
)
from falcon_pachinko import manager as manager_module
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

    result = await manager.broadcast_to_room("r", Note("hi"), exclude={"c1"})
    assert result == DeliveryResult(recipients=2, sent=2)
    assert stubs[0].frames == ['{"text":"hi"}'] and stubs[1].frames == []
    assert stubs[0].events[0] is stubs[2].events[0]  # one event object shared
    assert await manager.broadcast_to_room("nobody-here", "x") == DeliveryResult()
    await manager.broadcast_to_room("r", b"\x00\x01")
    assert stubs[2].frames[-1] == b"\x00\x01"


class BrokenWS(StubWS):
    """A custom socket object whose send raises a bug, not a network condition."""

    async def asgi_send(self, event: dict[str, Any]) -> None:
        raise RuntimeError("bug in a custom socket")


async def test_network_failures_never_reach_the_caller() -> None:
    manager, stubs = await manager_with("ok", "fail", "ok")
    result = await manager.broadcast_to_room("r", "x")
    assert result == DeliveryResult(recipients=3, sent=2, queued=0, dropped=0, closed=1)
    assert [s.frames for s in stubs] == [['"x"'], [], ['"x"']]
    for _ in range(5):
        await asyncio.sleep(0)
    assert stubs[1].close_code == 1011  # the peer that failed is closed
    again = await manager.broadcast_to_room("r", "y")  # logged and counted once
    assert again.dropped == 1 and again.closed == 0
    stats = manager.stats()
    assert stats["failed_sends"] == stats["lost_peers"] == 1


async def test_non_network_failures_are_aggregated() -> None:
    manager = WebSocketConnectionManager()
    await manager.add_connection("ok", StubWS())
    await manager.add_connection("bad", BrokenWS())
    for conn_id in ("ok", "bad"):
        await manager.join_room(conn_id, "r")
    with pytest.raises(RuntimeError, match="bug in a custom socket"):
        await manager.broadcast_to_room("r", "one failure")
    await manager.add_connection("bad2", BrokenWS())
    await manager.add_connection("bad3", BrokenWS())
    await manager.join_room("bad2", "r")
    await manager.join_room("bad3", "r")
    with pytest.raises(ExceptionGroup) as info:
        await manager.broadcast_to_room("r", "two failures")
    assert len(info.value.exceptions) == 2
    assert manager.stats()["failed_sends"] == 3 and manager.stats()["lost_peers"] == 0


async def test_a_refused_send_to_a_closed_socket_is_named_as_such(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A queued frame that reaches a socket the server already closed (uvicorn
    closes with 1007 on invalid UTF-8, then refuses sends with a RuntimeError)
    is that peer's outcome, and the log line says so instead of suggesting
    the RuntimeError is a bug."""
    caplog.set_level(logging.INFO)
    manager = WebSocketConnectionManager()
    closed = BrokenWS()
    closed.close_code = 1007  # closed by the server before the frame went out
    await manager.add_connection("gone", closed)
    await manager.send_to_connection("gone", "welcome")  # does not raise
    lines = [r.getMessage() for r in caplog.records if r.name == "falcon_pachinko.manager"]
    assert any("gone was already closing when a queued frame was sent" in m for m in lines)
    assert not any("went away" in m for m in lines)
    assert manager.stats()["lost_peers"] == 1


async def test_a_connection_leaving_with_drops_names_itself_and_its_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The minute's drop WARNING counts every connection's drops; the
    connection they happened to says so with its id as it leaves (an outside
    view could not tie an aggregate line to the client that caused it)."""
    caplog.set_level(logging.INFO, logger="falcon_pachinko.manager")
    manager, _stubs = await manager_with("block", "ok", outbox_size=1, overflow="drop_oldest")
    for i in range(5):  # c0: m0 in flight, then each new frame drops the queued one
        await manager.publish_to_room("r", f"m{i}")
    assert manager.connection_stats("c0")["dropped"] == 3
    await manager.remove_connection("c1")  # nothing dropped for it: no line
    await manager.remove_connection("c0")
    await manager.remove_connection("c0")  # idempotent: said once
    lines = [r.getMessage() for r in caplog.records if "left with" in r.getMessage()]
    assert lines == ["connection c0 left with 3 frame(s) dropped for it by the outbox policy"]


async def test_a_connection_already_closing_leaves_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Frames sent to a connection after it was found gone are dropped as a
    matter of course; its departure was logged already (went away), so
    leaving adds no line (a server's shutdown would otherwise log every
    client)."""
    caplog.set_level(logging.INFO, logger="falcon_pachinko.manager")
    manager, _stubs = await manager_with("fail")
    for i in range(3):  # the first send fails (went away), the rest are dropped
        await manager.publish_to_room("r", f"m{i}")
    assert manager.connection_stats("c0")["dropped"] >= 1
    await manager.remove_connection("c0")
    messages = [r.getMessage() for r in caplog.records]
    assert any("went away during a send" in m for m in messages)
    assert not any("left with" in m for m in messages)


def test_the_stall_bound_without_a_manager_is_the_managers_default() -> None:
    import inspect

    from falcon_pachinko._peers import SEND_TIMEOUT

    default = inspect.signature(WebSocketConnectionManager).parameters["send_timeout"].default
    assert default == SEND_TIMEOUT


async def test_slow_peer_never_delays_the_others_nor_the_caller() -> None:
    manager, stubs = await manager_with("ok", "block", "ok", send_timeout=5)
    first = await asyncio.wait_for(manager.broadcast_to_room("r", "fast"), 1)
    assert first == DeliveryResult(recipients=3, sent=2, queued=1, dropped=0, closed=0)
    assert stubs[0].frames == ['"fast"'] and stubs[2].frames == ['"fast"']
    waited = await manager.broadcast_to_room("r", "again", timeout=0.05)
    assert waited.pending == 1 and waited.queued == 1  # reported, not raised
    assert stubs[0].frames == ['"fast"', '"again"']
    stubs[1].gate.set()  # the slow peer recovers: it gets everything, in order
    third = await manager.broadcast_to_room("r", "third", timeout=1)
    assert third.pending == 0
    assert stubs[1].frames == ['"fast"', '"again"', '"third"']


async def test_timeout_zero_is_immediate() -> None:
    manager, _ = await manager_with("block")
    result = await asyncio.wait_for(manager.broadcast_to_room("r", "x", timeout=0), 0.5)
    assert result.pending == 1


async def test_stalled_send_closes_the_peer_as_slow_without_raising() -> None:
    manager, stubs = await manager_with("block", "ok", send_timeout=0.1)
    result = await manager.broadcast_to_room("r", "x", timeout=2)
    assert result.queued == 1 and result.pending == 0  # settled: closed as slow
    assert stubs[0].close_code == 1013
    assert manager.stats()["slow_closes"] == 1
    assert stubs[1].frames == ['"x"']


async def test_str_is_json_raw_is_verbatim_bytes_are_binary() -> None:
    manager, stubs = await manager_with("ok")
    await manager.broadcast_to_room("r", "hi")
    await manager.broadcast_to_room("r", msgspec.Raw(b'{"pre":"encoded"}'))
    await manager.broadcast_to_room("r", b"\x01")
    assert stubs[0].frames == ['"hi"', '{"pre":"encoded"}', b"\x01"]


class MediaOnly:
    """A socket object with only the published ``send_media``."""

    def __init__(self) -> None:
        self.media: list[Any] = []

    async def send_media(self, data: Any) -> None:
        self.media.append(data)

    async def close(self, code: int = 1000) -> None:
        pass


async def test_send_media_only_sockets_receive_broadcasts() -> None:
    manager = WebSocketConnectionManager()
    ws = MediaOnly()
    await manager.add_connection("m", ws)
    await manager.join_room("m", "r")
    await manager.broadcast_to_room("r", {"type": "news", "n": 1})
    await manager.send_to_connection("m", "hello")
    assert ws.media == [{"type": "news", "n": 1}, "hello"]


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
    assert stats == {"queued": 2, "dropped": dropped, "busy": True, "unhandled_frames": {}}
    stubs[0].gate.set()
    for _ in range(100):
        await asyncio.sleep(0)
    assert stubs[0].frames == [f'"{f}"' for f in expected_frames]
    assert manager.stats()["dropped_frames"] == dropped


async def test_close_policy_closes_the_slow_peer() -> None:
    manager, stubs = await manager_with("block", "ok", outbox_size=1, overflow="close")
    for i in range(3):
        await manager.publish_to_room("r", f"m{i}")
    for _ in range(20):
        await asyncio.sleep(0)
    assert stubs[0].close_code == 1013
    assert stubs[1].frames == ['"m0"', '"m1"', '"m2"']


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
    assert stubs[2].frames[-1] == '"all"' and stubs[0].frames[-1] != '"all"'
    await manager.send_to_connection("c2", "direct")
    assert stubs[2].frames[-1] == '"direct"'
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
    assert ws.frames == ['"early"']
    await manager.publish_to_room("r", "late")
    assert ws.frames == ['"early"', '"late"']


async def test_stop_closes_everyone_with_1001() -> None:
    manager, stubs = await manager_with("ok", "block")
    await manager.stop()
    assert [s.close_code for s in stubs] == [1001, 1001]


async def test_send_to_connection_queues_for_a_busy_peer_and_never_raises_for_it() -> None:
    manager, stubs = await manager_with("block", "fail")
    first = await asyncio.wait_for(manager.send_to_connection("c0", "one"), 1)
    assert first.queued == 1  # handed to its writer, not waited for
    waited = await manager.send_to_connection("c0", "two", timeout=0.05)
    assert waited.pending == 1
    stubs[0].gate.set()
    done = await manager.send_to_connection("c0", "three", timeout=1)
    assert done.pending == 0
    assert stubs[0].frames == ['"one"', '"two"', '"three"']
    gone = await manager.send_to_connection("c1", "x")  # the peer reset: its outcome
    assert gone.closed == 1
    assert manager.stats()["failed_sends"] == 1
    await manager.remove_connection("c1")
    with pytest.raises(WebSocketConnectionNotFoundError):
        await manager.send_to_connection("c1", "y")


class DictBackend(ConnectionBackend):
    """A backend written as the published API's users write one: plain dicts,
    no knowledge of the library's hub.
    """

    def __init__(self) -> None:
        self.sockets: dict[str, Any] = {}
        self.members: dict[str, set[str]] = {}
        self.calls: list[str] = []

    @property
    def websockets(self) -> Mapping[str, Any]:
        return MappingProxyType(self.sockets)

    @property
    def rooms(self) -> Mapping[str, frozenset[str]]:
        return {room: frozenset(ids) for room, ids in self.members.items() if ids}

    async def add_connection(self, conn_id: str, ws: Any) -> None:
        if conn_id in self.sockets:
            raise ValueError(f"Duplicate connection ID: {conn_id}")
        self.sockets[conn_id] = ws

    async def remove_connection(self, conn_id: str) -> None:
        self.sockets.pop(conn_id, None)
        for ids in self.members.values():
            ids.discard(conn_id)

    async def join_room(self, conn_id: str, room: str) -> None:
        if conn_id not in self.sockets:
            raise WebSocketConnectionNotFoundError(conn_id)
        self.members.setdefault(room, set()).add(conn_id)

    async def leave_room(self, conn_id: str, room: str) -> None:
        self.members.get(room, set()).discard(conn_id)

    async def get_websocket(self, conn_id: str) -> Any:
        self.calls.append(f"get_websocket:{conn_id}")
        try:
            return self.sockets[conn_id]
        except KeyError:
            raise WebSocketConnectionNotFoundError(conn_id) from None

    async def snapshot(self, room: str | None = None) -> frozenset[str]:
        self.calls.append(f"snapshot:{room}")
        if room is None:
            return frozenset(self.sockets)
        return frozenset(self.members.get(room, ()))


async def test_custom_backend_is_really_used() -> None:
    backend = DictBackend()
    manager = WebSocketConnectionManager(backend)
    a, b, outside = StubWS(), StubWS(), StubWS()
    await manager.add_connection("a", a)
    await manager.add_connection("b", b)
    await manager.join_room("a", "lobby")
    await manager.join_room("b", "lobby")
    # Membership the backend learned elsewhere (another process, a direct call).
    await backend.add_connection("x", outside)
    backend.members["lobby"].add("x")
    result = await manager.broadcast_to_room("lobby", {"n": 1}, exclude={"b"})
    assert result.recipients == 2 and result.sent == 2
    assert a.frames == outside.frames == ['{"n":1}'] and b.frames == []
    assert "snapshot:lobby" in backend.calls and "get_websocket:x" in backend.calls
    await manager.broadcast_to_all({"n": 2})
    assert b.frames == ['{"n":2}'] and outside.frames[-1] == '{"n":2}'
    await manager.send_to_connection("x", "direct")
    assert outside.frames[-1] == '"direct"'
    assert manager.room_size("lobby") == 3 and manager.room_members("lobby") == ["a", "b", "x"]
    assert manager.get_rooms_by_prefix("lob") == ["lobby"] and manager.rooms_of("a") == ["lobby"]
    with pytest.raises(WebSocketConnectionNotFoundError):
        await manager.send_to_connection("nobody", "y")


async def test_membership_limits_refuse_and_change_nothing() -> None:
    manager = WebSocketConnectionManager(
        max_rooms_per_connection=2,
        max_room_name_length=8,
        max_connections_per_user=1,
        max_user_id_length=5,
    )
    await manager.add_connection("a", StubWS())
    await manager.add_connection("b", StubWS())
    with pytest.raises(LimitExceededError) as info:
        await manager.join_room("a", "x" * 9)
    assert info.value.limit == "room_name_length" and isinstance(info.value, ValueError)
    await manager.join_room("a", "r1")
    await manager.join_room("a", "r2")
    await manager.join_room("a", "r2")  # already a member: not a new room
    with pytest.raises(LimitExceededError) as info:
        await manager.join_room("a", "r3")
    assert (info.value.limit, info.value.maximum, info.value.conn_id) == (
        "rooms_per_connection",
        2,
        "a",
    )
    assert sorted(manager.rooms_of("a")) == ["r1", "r2"]
    with pytest.raises(LimitExceededError):
        await manager.set_user("a", "toolong")
    await manager.set_user("a", "alice")
    await manager.set_user("a", "alice")  # the same device again is fine
    with pytest.raises(LimitExceededError) as info:
        await manager.set_user("b", "alice")
    assert info.value.limit == "connections_per_user"
    assert manager.user_connections("alice") == ["a"]


async def test_published_manager_views() -> None:
    manager, stubs = await manager_with("ok", "ok")
    assert dict(manager.websockets) == {"c0": stubs[0], "c1": stubs[1]}
    assert dict(manager.rooms) == {"r": frozenset({"c0", "c1"})}
    views = manager.websockets, manager.rooms
    await manager.remove_connection("c1")
    assert set(views[0]) == {"c0", "c1"}  # snapshots: taken when asked
    assert await manager.snapshot("r") == frozenset({"c0"})
    assert await manager.get_websocket("c0") is stubs[0]
    assert await manager.get_websocket("c1") is None
    with pytest.raises(TypeError):
        manager.websockets["x"] = stubs[0]  # type: ignore[index]


async def test_writer_stops_when_the_peer_is_gone() -> None:
    """Frames queued for a peer that disconnected are dropped (and counted),
    not written into its dead transport one by one.
    """
    manager, stubs = await manager_with("block", outbox_size=8)
    for i in range(3):
        await manager.broadcast_to_room("r", f"m{i}")  # m0 in flight, m1 and m2 queued
    stubs[0].close_code = 1006  # the client vanished (Falcon: ws.closed)
    stubs[0].gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert stubs[0].frames == ['"m0"']
    assert manager.connection_stats("c0")["dropped"] == 2
    assert manager.stats()["dropped_frames"] == 2


async def test_a_socket_that_cannot_send_is_refused_at_registration() -> None:
    """A class that subclasses the published protocol without implementing
    ``send_media`` inherits a bodiless stub: frames sent through it would
    vanish, so registration says so instead.
    """

    class Hollow(WebSocketLike):
        async def close(self, code: int = 1000) -> None:
            pass

    manager = WebSocketConnectionManager()
    with pytest.raises(TypeError, match="cannot send"):
        await manager.add_connection("h", Hollow())
    assert manager.stats()["connections"] == 0 and "h" not in manager.websockets


async def test_dropped_frames_are_logged_at_the_first_then_at_most_once_an_interval(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: a member's outcome is counted and logged. Drops by the outbox
    policy: a WARNING at the first, then none within the interval (one slow
    client must not flood the log), then one line with the count since."""
    caplog.set_level(logging.WARNING, logger="falcon_pachinko.manager")
    manager, _stubs = await manager_with("block", outbox_size=1, overflow="drop_oldest")
    for i in range(3):  # m0 in flight, m1 queued, m2 drops m1
        await manager.publish_to_room("r", f"m{i}")
    drops = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 1 and "1 frame(s) dropped so far" in drops[0].getMessage()
    assert "drop_oldest" in drops[0].getMessage()
    assert "sent to a connection already closing" in drops[0].getMessage()  # every cause named
    for i in range(3, 6):  # three more drops within the interval: counted, not logged
        await manager.publish_to_room("r", f"m{i}")
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    assert manager.stats()["dropped_frames"] == 4
    monkeypatch.setattr(manager_module, "DROP_LOG_INTERVAL", 0.0)
    await manager.publish_to_room("r", "m6")
    drops = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 2 and "4 frame(s) dropped since the last" in drops[1].getMessage()

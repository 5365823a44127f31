"""FanoutHub contract: the spec examples, run against each twin (``impl``).

Ported from the Rust core's tests (src-rust/fanout.rs) so that the pure twin,
which is the specification, is held to them too, plus type confusion at
every public entry: ids, rooms and user ids are ``str`` (subclasses
accepted), anything else is a ``TypeError`` from both twins.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from falcon_pachinko.exceptions import WebSocketConnectionNotFoundError

from .sends import ScriptedSend

#: The scripted sends registered in each hub (the hub keeps them private;
#: neither twin lets a test attach attributes to it).
_SENDS: dict[int, dict[str, ScriptedSend]] = {}


def sends(hub: Any) -> dict[str, ScriptedSend]:
    return _SENDS.setdefault(id(hub), {})


@pytest.fixture(autouse=True)
def _forget_sends() -> Iterator[None]:
    yield
    _SENDS.clear()


def hub_of(impl: ModuleType, policy: str, capacity: int = 2) -> Any:
    hub = impl.FanoutHub(capacity=capacity, policy=policy)
    for conn_id in ("a", "b", "c"):
        add(hub, conn_id)
        hub.join(conn_id, "room")
    return hub


def add(hub: Any, conn_id: str, mode: str = "ok", *, pending: bool = False) -> ScriptedSend:
    send = sends(hub)[conn_id] = ScriptedSend(conn_id, mode)
    hub.add(conn_id, send, pending=pending)
    return send


def fields(fan: Any) -> tuple[Any, ...]:
    return fan.sent, fan.dropped, fan.suspended, fan.failed, fan.to_close, fan.queued


def make_writing(hub: Any, conn_id: str) -> None:
    """Idle -> writing, as in production: a direct write that suspends."""
    sends(hub)[conn_id].mode = "suspend"
    assert [s[0] for s in hub.send_one(conn_id, "in-flight").suspended] == [conn_id]
    sends(hub)[conn_id].mode = "ok"
    assert hub.state(conn_id) == "writing"


def frames(hub: Any, conn_id: str) -> list[Any]:
    return [f for f in sends(hub)[conn_id].frames if f != "in-flight"]


def test_idle_members_are_written_directly_and_exclusions_hold(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    fan = hub.fanout_room("room", "f1", ["b"])
    assert fields(fan) == (2, 0, [], [], [], []) and fan.settled is True
    assert frames(hub, "a") == frames(hub, "c") == ["f1"] and frames(hub, "b") == []
    with pytest.raises(ValueError, match="Duplicate connection ID"):
        hub.add("a", ScriptedSend("a", "ok"))
    with pytest.raises(WebSocketConnectionNotFoundError):
        hub.join("zz", "room")


def test_writing_members_queue_then_drop_oldest(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    make_writing(hub, "a")
    for frame in ("f1", "f2", "f3"):
        fan = hub.fanout_room("room", frame)
        assert fan.queued == ["a"] and fan.sent == 2 and fan.settled is False
    assert (hub.queued_count("a"), hub.dropped_count("a"), hub.state("a")) == (2, 1, "writing")
    assert [hub.next_frame("a"), hub.next_frame("a"), hub.next_frame("a")] == ["f2", "f3", None]
    # The writer's empty read made the connection idle: the next frame goes out directly.
    assert hub.state("a") == "idle" and hub.dropped_total == 1
    assert hub.send_one("a", "f4").sent == 1 and frames(hub, "a") == ["f4"]


def test_drop_newest_keeps_the_oldest_and_reports_the_drop(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_newest")
    make_writing(hub, "c")
    results = [hub.fanout_room("room", frame) for frame in ("f1", "f2", "f3")]
    assert [r.dropped for r in results] == [0, 0, 1]  # the third frame was dropped for c
    assert hub.next_frame("c") == "f1"


def test_close_policy_reports_once_then_drops(impl: ModuleType) -> None:
    hub = hub_of(impl, "close")
    make_writing(hub, "b")
    hub.fanout_room("room", "f1")
    hub.fanout_room("room", "f2")
    assert hub.fanout_room("room", "f3").to_close == ["b"]
    assert hub.state("b") == "closing" and hub.dropped_count("b") == 3
    after = hub.fanout_room("room", "f4")
    assert after.to_close == [] and after.dropped == 1  # dropped, not reported again


def test_mark_closing_discards_the_outbox_and_drops_later_frames(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    make_writing(hub, "a")
    hub.fanout_room("room", "f1")
    hub.fanout_room("room", "f2")
    assert hub.mark_closing("a") == 2
    assert hub.mark_closing("a") == 0
    assert hub.fanout_room("room", "f3").dropped == 1
    assert fields(hub.send_one("a", "f4")) == (0, 1, [], [], [], [])
    assert hub.next_frame("a") is None and hub.activate("a") is False
    assert hub.state("a") == "closing"  # final: nothing brings it back
    assert hub.dropped_count("a") == 4 and hub.dropped_total == 4
    with pytest.raises(WebSocketConnectionNotFoundError):
        hub.mark_closing("zz")


def test_pending_queues_until_activated(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    add(hub, "p", pending=True)
    hub.join("p", "room")
    assert hub.state("p") == "pending"
    assert hub.fanout_room("room", "f1").queued == ["p"]
    assert hub.send_one("p", "f2").queued == ["p"]
    # The handshake is not done: no writer may take its frames yet.
    assert hub.next_frame("p") is None and hub.state("p") == "pending"
    assert frames(hub, "p") == []
    assert hub.activate("p") is True and hub.state("p") == "writing"
    assert [hub.next_frame("p"), hub.next_frame("p"), hub.next_frame("p")] == ["f1", "f2", None]
    assert hub.state("p") == "idle" and hub.activate("p") is False
    add(hub, "q", pending=True)
    assert hub.activate("q") is False and hub.state("q") == "idle"
    with pytest.raises(WebSocketConnectionNotFoundError):
        hub.activate("zz")


def test_pending_overflow_follows_the_policy(impl: ModuleType) -> None:
    hub = impl.FanoutHub(capacity=1, policy="close")
    add(hub, "p", pending=True)
    assert hub.send_one("p", "f1").queued == ["p"]
    assert fields(hub.send_one("p", "f2")) == (0, 0, [], [], ["p"], [])
    assert hub.state("p") == "closing" and hub.activate("p") is False


def test_send_one_reports_like_a_broadcast(impl: ModuleType) -> None:
    hub = impl.FanoutHub()
    add(hub, "ok")
    add(hub, "slow", "suspend")
    add(hub, "bad", "fail")
    assert fields(hub.send_one("ok", "x")) == (1, 0, [], [], [], [])
    slow = hub.send_one("slow", "x")
    assert [(c, y) for c, _it, y in slow.suspended] == [("slow", "waiting:slow")]
    assert hub.state("slow") == "writing"
    bad = hub.send_one("bad", "x")
    assert [(c, type(e)) for c, e in bad.failed] == [("bad", ConnectionResetError)]
    assert hub.state("bad") == "idle"  # the caller decides (mark_closing)
    assert hub.send_one("slow", "y").queued == ["slow"]
    with pytest.raises(WebSocketConnectionNotFoundError):
        hub.send_one("zz", "x")


def test_remove_unlinks_rooms_and_users(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    hub.set_user("a", "u")
    assert hub.user_members("u") == ["a"]
    assert hub.remove("a") is True and hub.remove("a") is False
    assert hub.room_size("room") == 2 and hub.user_members("u") == []
    assert hub.next_frame("a") is None  # a writer outliving its connection stops
    hub.leave("b", "room")
    hub.leave("c", "room")
    assert hub.rooms() == []


def test_failed_and_suspended_sends_are_reported(impl: ModuleType) -> None:
    hub = impl.FanoutHub(capacity=4)
    add(hub, "ok")
    add(hub, "slow", "suspend")
    add(hub, "bad", "fail")
    fan = hub.fanout_all("x")
    assert (fan.sent, fan.dropped, fan.to_close, fan.queued) == (1, 0, [], [])
    assert [s[0] for s in fan.suspended] == ["slow"] and fan.suspended[0][2] == "waiting:slow"
    assert [(c, type(e)) for c, e in fan.failed] == [("bad", ConnectionResetError)]
    assert hub.state("slow") == "writing"  # a suspended send makes its member writing


def test_names_and_limits_are_the_same_in_both_twins(impl: ModuleType) -> None:
    assert impl.POLICIES == ("drop_oldest", "drop_newest", "close")
    assert impl.STATES == ("pending", "idle", "writing", "closing")
    assert impl.DEFAULT_CAPACITY == 256
    hub = impl.FanoutHub()
    assert (hub.capacity, hub.policy) == (impl.DEFAULT_CAPACITY, impl.POLICIES[0])
    for policy in impl.POLICIES:
        assert impl.FanoutHub(policy=policy).policy == policy
    with pytest.raises(ValueError, match="'drop_oldest', 'drop_newest', 'close'"):
        impl.FanoutHub(policy="nope")


def test_fanout_is_a_read_only_record(impl: ModuleType) -> None:
    fan = impl.Fanout(1, 2, [], [("b", ValueError())], ["c"], ["d"])
    assert (fan.sent, fan.dropped, fan.to_close, fan.queued) == (1, 2, ["c"], ["d"])
    assert fan.settled is False and impl.Fanout(3, 0, [], [], [], []).settled is True
    assert repr(impl.Fanout(1, 0, [], [], [], [])) == (
        "Fanout(sent=1, dropped=0, suspended=[], failed=[], to_close=[], queued=[])"
    )
    for name in ("sent", "dropped", "suspended", "failed", "to_close", "queued", "settled"):
        with pytest.raises(AttributeError):
            setattr(fan, name, 0)
    with pytest.raises(TypeError):
        impl.Fanout(1, 2, (), [], [], [])
    with pytest.raises(TypeError):
        impl.Fanout("1", 2, [], [], [], [])
    with pytest.raises(OverflowError):
        impl.Fanout(-1, 2, [], [], [], [])
    with pytest.raises(TypeError):
        impl.Fanout(sent=1, dropped=0, suspended=[], failed=[], to_close=[], queued=[])


class Name(str):
    """A str subclass: accepted wherever a str is."""


def test_str_subclasses_are_accepted(impl: ModuleType) -> None:
    hub = impl.FanoutHub()
    hub.add(Name("a"), ScriptedSend("a", "ok"))
    hub.join(Name("a"), Name("room"))
    hub.set_user(Name("a"), Name("u"))
    assert hub.members("room") == ["a"] and hub.user_members("u") == ["a"]
    assert hub.fanout_room(Name("room"), "f", {Name("zz")}).sent == 1
    assert hub.state(Name("a")) == "idle"


WRONG = [1, None, b"a", 1.5, ("a",)]


def entries(hub: Any, bad: Any) -> list[tuple[str, Any]]:
    """Every public entry of the hub, called with ``bad`` where a str belongs."""
    return [
        ("add", lambda: hub.add(bad, ScriptedSend("x", "ok"))),
        ("remove", lambda: hub.remove(bad)),
        ("join id", lambda: hub.join(bad, "room")),
        ("join room", lambda: hub.join("a", bad)),
        ("leave id", lambda: hub.leave(bad, "room")),
        ("leave room", lambda: hub.leave("a", bad)),
        ("set_user id", lambda: hub.set_user(bad, "u")),
        ("members", lambda: hub.members(bad)),
        ("user_members", lambda: hub.user_members(bad)),
        ("rooms_of", lambda: hub.rooms_of(bad)),
        ("user_of", lambda: hub.user_of(bad)),
        ("room_size", lambda: hub.room_size(bad)),
        ("state", lambda: hub.state(bad)),
        ("queued_count", lambda: hub.queued_count(bad)),
        ("dropped_count", lambda: hub.dropped_count(bad)),
        ("fanout_room", lambda: hub.fanout_room(bad, "f")),
        ("fanout_user", lambda: hub.fanout_user(bad, "f")),
        ("exclude", lambda: hub.fanout_all("f", [bad])),
        ("send_one", lambda: hub.send_one(bad, "f")),
        ("activate", lambda: hub.activate(bad)),
        ("mark_closing", lambda: hub.mark_closing(bad)),
        ("next_frame", lambda: hub.next_frame(bad)),
        ("contains", lambda: bad in hub),
    ]


def test_options_are_type_checked(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    with pytest.raises(TypeError):
        hub.add("x", ScriptedSend("x", "ok"), pending=1)
    with pytest.raises(TypeError):
        impl.FanoutHub(capacity="4")
    with pytest.raises(TypeError):
        impl.FanoutHub(policy=1)
    with pytest.raises(TypeError):
        impl.FanoutHub(4)  # options are keyword-only
    assert "x" not in hub


@pytest.mark.parametrize("bad", WRONG, ids=repr)
def test_type_confusion_is_a_type_error_everywhere(impl: ModuleType, bad: Any) -> None:
    hub = hub_of(impl, "drop_oldest")
    for name, call in entries(hub, bad):
        with pytest.raises(TypeError):
            call()
            pytest.fail(f"{name} accepted {bad!r}")
    # Nothing was registered or changed by the refused calls.
    assert len(hub) == 3 and hub.members("room") == ["a", "b", "c"] and hub.rooms() == ["room"]


def test_set_user_accepts_none_and_a_huge_id(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    huge = "u" * 1_000_000
    hub.set_user("a", huge)
    assert hub.user_of("a") == huge and hub.user_members(huge) == ["a"]
    hub.set_user("a", None)
    assert hub.user_of("a") is None and hub.user_members(huge) == []

"""FanoutHub contract: the spec examples, run against each twin (``impl``).

Ported from the Rust core's tests (src-rust/fanout.rs) so that the pure twin,
which is the specification, is held to them too, plus type confusion at
every public entry: ids, rooms and user ids are ``str`` (subclasses
accepted), anything else is a ``TypeError`` from both twins.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from falcon_pachinko.exceptions import WebSocketConnectionNotFoundError

from .sends import ScriptedSend


def hub_of(impl: ModuleType, policy: str, capacity: int = 2) -> Any:
    hub = impl.FanoutHub(capacity, policy)
    for conn_id in ("a", "b", "c"):
        hub.add(conn_id, ScriptedSend(conn_id, "ok"))
        hub.join(conn_id, "room")
    return hub


def frames(hub: Any, conn_id: str) -> list[Any]:
    return list(hub.target(conn_id).frames)


def test_idle_members_are_written_directly_and_exclusions_hold(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    sent, dropped, suspended, failed, close, queued = hub.fanout_room("room", "f1", ["b"])
    assert (sent, dropped, suspended, failed, close, queued) == (2, 0, [], [], [], [])
    assert frames(hub, "a") == frames(hub, "c") == ["f1"] and frames(hub, "b") == []
    with pytest.raises(ValueError, match="Duplicate connection ID"):
        hub.add("a", ScriptedSend("a", "ok"))
    with pytest.raises(WebSocketConnectionNotFoundError):
        hub.join("zz", "room")


def test_busy_members_queue_then_drop_oldest(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    hub.mark_busy("a")
    for frame in ("f1", "f2", "f3"):
        result = hub.fanout_room("room", frame)
        assert result[5] == ["a"]  # queued for the busy member
    assert hub.stats("a") == (2, 1, True)
    assert [hub.pop("a"), hub.pop("a"), hub.pop("a")] == ["f2", "f3", None]
    assert hub.stats("a") == (0, 1, False)  # the writer went idle on the empty pop
    assert hub.dropped_total == 1


def test_drop_newest_keeps_the_oldest_and_reports_the_drop(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_newest")
    hub.mark_busy("c")
    results = [hub.fanout_room("room", frame) for frame in ("f1", "f2", "f3")]
    assert [r[1] for r in results] == [0, 0, 1]  # the third frame was dropped for c
    assert hub.pop("c") == "f1"


def test_close_policy_reports_once_then_drops(impl: ModuleType) -> None:
    hub = hub_of(impl, "close")
    hub.mark_busy("b")
    hub.fanout_room("room", "f1")
    hub.fanout_room("room", "f2")
    assert hub.fanout_room("room", "f3")[4] == ["b"]
    after = hub.fanout_room("room", "f4")
    assert after[4] == [] and after[1] == 1  # dropped, not reported again


def test_mark_closing_discards_the_outbox_and_drops_later_frames(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    hub.mark_busy("a")
    hub.fanout_room("room", "f1")
    hub.fanout_room("room", "f2")
    assert hub.mark_closing("a") == 2
    assert hub.mark_closing("a") == 0
    assert hub.fanout_room("room", "f3")[1] == 1
    assert hub.pop("a") is None
    assert hub.stats("a")[1] == 3 and hub.dropped_total == 3
    with pytest.raises(WebSocketConnectionNotFoundError):
        hub.mark_closing("zz")


def test_remove_unlinks_rooms_and_users(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    hub.set_user("a", "u")
    assert hub.user_members("u") == ["a"]
    assert hub.remove("a") is True and hub.remove("a") is False
    assert hub.room_size("room") == 2 and hub.user_members("u") == []
    hub.leave("b", "room")
    hub.leave("c", "room")
    assert hub.rooms() == []


def test_failed_and_suspended_sends_are_reported(impl: ModuleType) -> None:
    hub = impl.FanoutHub(4, "drop_oldest")
    hub.add("ok", ScriptedSend("ok", "ok"))
    hub.add("slow", ScriptedSend("slow", "suspend"))
    hub.add("bad", ScriptedSend("bad", "fail"))
    sent, dropped, suspended, failed, close, queued = hub.fanout_all("x")
    assert sent == 1 and dropped == 0 and close == [] and queued == []
    assert [s[0] for s in suspended] == ["slow"] and suspended[0][2] == "waiting:slow"
    assert [(c, type(e)) for c, e in failed] == [("bad", ConnectionResetError)]
    assert hub.stats("slow")[2] is True  # a suspended send makes its member busy


class Name(str):
    """A str subclass: accepted wherever a str is."""


def test_str_subclasses_are_accepted(impl: ModuleType) -> None:
    hub = impl.FanoutHub()
    hub.add(Name("a"), ScriptedSend("a", "ok"))
    hub.join(Name("a"), Name("room"))
    hub.set_user(Name("a"), Name("u"))
    assert hub.members("room") == ["a"] and hub.user_members("u") == ["a"]
    assert hub.fanout_room(Name("room"), "f", {Name("zz")})[0] == 1


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
        ("target", lambda: hub.target(bad)),
        ("stats", lambda: hub.stats(bad)),
        ("fanout_room", lambda: hub.fanout_room(bad, "f")),
        ("fanout_user", lambda: hub.fanout_user(bad, "f")),
        ("exclude", lambda: hub.fanout_all("f", [bad])),
        ("send_one", lambda: hub.send_one(bad, "f")),
        ("mark_busy", lambda: hub.mark_busy(bad)),
        ("mark_closing", lambda: hub.mark_closing(bad)),
        ("pop", lambda: hub.pop(bad)),
        ("contains", lambda: bad in hub),
    ]


@pytest.mark.parametrize("bad", WRONG, ids=repr)
def test_type_confusion_is_a_type_error_everywhere(impl: ModuleType, bad: Any) -> None:
    hub = hub_of(impl, "drop_oldest")
    for name, call in entries(hub, bad):
        with pytest.raises(TypeError):
            call()
            pytest.fail(f"{name} accepted {bad!r}")
    # Nothing was registered or changed by the refused calls.
    assert sorted(hub.connection_ids()) == ["a", "b", "c"] and hub.rooms() == ["room"]


def test_set_user_accepts_none_and_a_huge_id(impl: ModuleType) -> None:
    hub = hub_of(impl, "drop_oldest")
    huge = "u" * 1_000_000
    hub.set_user("a", huge)
    assert hub.user_of("a") == huge and hub.user_members(huge) == ["a"]
    hub.set_user("a", None)
    assert hub.user_of("a") is None and hub.user_members(huge) == []

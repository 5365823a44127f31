"""Input side of DESIGN §6.2: annotations, one outcome, binary frames, visibility."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pytest

from falcon_pachinko import WebSocketConnectionManager, WebSocketResource, handles_message
from falcon_pachinko._dispatch import LONE_SURROGATE, REASONS
from falcon_pachinko.testing import WebSocketSimulator


class Say(msgspec.Struct):
    text: str


class Room(WebSocketResource):
    max_frame_size = 256

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        self.calls.append(("say", payload))

    @handles_message("maybe")
    async def maybe(self, ws: Any, payload: Say | None) -> None:
        self.calls.append(("maybe", payload))

    @handles_message("bare")
    async def bare(self, ws: Any, payload) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(("bare", payload))

    async def on_poke(self, ws: Any, payload: Say) -> None:  # convention handler
        self.calls.append(("poke", payload))

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        self.calls.append(("unhandled", message))


class Validating(Room):
    async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
        self.calls.append(("validation", type(error).__name__))


async def accepted() -> WebSocketSimulator:
    ws = WebSocketSimulator()
    await ws.accept()
    return ws


async def send(resource: WebSocketResource, *frames: str | bytes) -> WebSocketSimulator:
    ws = await accepted()
    for frame in frames:
        await resource.dispatch(ws, frame)
    return ws


# -- 1. the annotation is the contract -----------------------------------------


@pytest.mark.parametrize("frame", ['{"type": "say"}', '{"type": "say", "payload": null}'])
async def test_missing_payload_is_a_validation_failure_for_a_struct(frame: str) -> None:
    r = Validating()
    ws = await send(r, frame)
    assert r.calls == [("validation", "ValidationError")]
    assert ws.close_code is None  # no 1011: the handler was never called


async def test_missing_payload_is_decoded_into_each_annotation() -> None:
    r = Validating()
    await send(
        r,
        '{"type": "poke"}',  # convention handler, payload: Say
        '{"type": "poke", "payload": {"text": "x"}}',
        '{"type": "maybe"}',  # payload: Say | None
        '{"type": "maybe", "payload": null}',
        '{"type": "bare"}',  # unannotated
    )
    assert r.calls == [
        ("validation", "ValidationError"),
        ("poke", Say("x")),
        ("maybe", None),
        ("maybe", None),
        ("bare", None),
    ]


# -- 2. one frame, one outcome -------------------------------------------------


@pytest.mark.parametrize(
    "frame", ['{"type": "say", "payload": {"txt": 1}}', "not json", "[1]", '{"type": 3}']
)
async def test_one_frame_one_outcome(frame: str) -> None:
    hooked = Validating()
    await send(hooked, frame, '{"type": "nobody"}')
    # the hook replaces on_unhandled; unknown tags still go to on_unhandled
    assert [c[0] for c in hooked.calls] == ["validation", "unhandled"]
    plain = Room()
    await send(plain, frame)
    assert plain.calls == [("unhandled", frame)]


class Explaining(Room):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[Exception] = []

    async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
        self.calls.append(("validation", str(error)))
        self.errors.append(error)


@pytest.mark.parametrize(
    "frame",
    [
        # a browser cut an emoji in half: JSON.stringify escapes the lone half
        '{"type": "say", "payload": {"text": "hi \\ud83d"}}',
        '{"type": "say", "payload": {"text": "\\ud800x"}}',
        '{"type": "poke", "payload": {"text": "\\udbff"}}',  # convention handler
        '{"type": "say", "payload": {"text": "before \\ud83d after"}}',
        '{"type": "say", "payload": {"text": "lo \\ude00 x"}}',
    ],
)
async def test_lone_surrogate_is_named_not_called_truncated(frame: str) -> None:
    # msgspec says "Input data was truncated" for these complete frames,
    # which points an operator at the network instead of the client.
    r = Explaining()
    await send(r, frame)
    assert len(r.calls) == 1 and r.calls[0][0] == "validation"
    message = r.calls[0][1]
    assert message == LONE_SURROGATE and "valid JSON" in message
    # msgspec's own message stays reachable for whoever wants it
    assert "surrogate" in str(r.errors[0].__cause__) or "truncated" in str(r.errors[0].__cause__)


# -- 3. binary frames -----------------------------------------------------------


async def test_binary_frames_are_decoded_like_text_by_default() -> None:
    r = Room()
    await send(r, b'{"type": "say", "payload": {"text": "hi"}}')
    assert r.calls == [("say", Say("hi"))]


def test_unknown_binary_mode_is_refused_at_class_creation() -> None:
    with pytest.raises(ValueError, match=r"Bad\.binary_frames"):
        type("Bad", (Room,), {"binary_frames": "ignore"})


@pytest.mark.parametrize("mode", ["dispatch", "unhandled", "close"])
async def test_binary_frames_over_the_limit_close_1009(mode: str) -> None:
    cls = type("Limited", (Room,), {"binary_frames": mode})
    r = cls()
    big = b'{"type": "say", "payload": {"text": "' + b"x" * 300 + b'"}}'
    ws = await send(r, big)
    assert ws.close_code == 1009 and r.calls == []


# -- 4. visible: logged and counted by reason -----------------------------------

BAD = [
    ('{"type": "say", nope}', "invalid_json"),
    ("not json", "not_object"),
    ("[1]", "not_object"),
    ('{"payload": 1}', "missing_type"),
    ('{"type": 1}', "missing_type"),
    ('{"type": "nobody"}', "unknown_type"),
    ('{"type": "say", "payload": {"txt": 1}}', "validation"),
    ('{"type": "say"}', "validation"),
    ('{"payload": ' + "[" * 100, "too_deep"),
    ('{"type": "say", "payload": "' + "x" * 300 + '"}', "too_large"),
]


async def _served(resource: WebSocketResource) -> tuple[WebSocketConnectionManager, str, Any]:
    manager = WebSocketConnectionManager()
    ws = await accepted()
    conn_id = manager.new_connection_id()
    await manager.add_connection(conn_id, ws)
    resource.connection_id, resource._manager = conn_id, manager
    resource._request_path = "/rooms/lobby"
    return manager, conn_id, ws


@pytest.mark.parametrize(("frame", "reason"), BAD)
async def test_every_undispatched_frame_is_logged_and_counted(
    frame: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert reason in REASONS
    r = Room()
    manager, conn_id, ws = await _served(r)
    with caplog.at_level(logging.DEBUG, logger="falcon_pachinko.dispatch"):
        await r.dispatch(ws, frame)
    records = [rec for rec in caplog.records if rec.name == "falcon_pachinko.dispatch"]
    assert len(records) == 1 and records[0].levelno == logging.DEBUG
    message = records[0].getMessage()
    assert f"reason={reason}" in message
    assert f"connection={conn_id}" in message and "path=/rooms/lobby" in message
    assert manager.stats()["unhandled_frames"] == {reason: 1}
    assert manager.connection_stats(conn_id)["unhandled_frames"] == {reason: 1}
    # a frame that reaches its handler is neither logged nor counted
    if ws.close_code is None:
        with caplog.at_level(logging.DEBUG, logger="falcon_pachinko.dispatch"):
            await r.dispatch(ws, '{"type": "say", "payload": {"text": "ok"}}')
        assert r.calls[-1] == ("say", Say("ok"))
        assert len([rec for rec in caplog.records if rec.name == records[0].name]) == 1
        assert manager.stats()["unhandled_frames"] == {reason: 1}


async def test_binary_opt_outs_are_counted_as_binary() -> None:
    unhandled = type("Unhandled", (Room,), {"binary_frames": "unhandled"})()
    manager, conn_id, ws = await _served(unhandled)
    await unhandled.dispatch(ws, b'{"type": "say", "payload": {"text": "hi"}}')
    assert unhandled.calls == [("unhandled", b'{"type": "say", "payload": {"text": "hi"}}')]
    assert manager.connection_stats(conn_id)["unhandled_frames"] == {"binary": 1}
    closing = type("Closing", (Room,), {"binary_frames": "close"})()
    manager, conn_id, ws = await _served(closing)
    await closing.dispatch(ws, b'{"type": "say", "payload": {"text": "hi"}}')
    assert ws.close_code == 1003 and closing.calls == []
    assert manager.connection_stats(conn_id)["unhandled_frames"] == {"binary": 1}

"""Dispatch of single frames (§5.4) through WebSocketResource.dispatch."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from falcon_pachinko import WebSocketResource, handles_message
from falcon_pachinko.testing import WebSocketSimulator


class Point(msgspec.Struct):
    x: int
    y: int


class Recorder(WebSocketResource):
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @handles_message("point")
    async def point(self, ws: Any, payload: Point) -> None:
        self.calls.append(("point", payload))

    @handles_message("lax", strict=False)
    async def lax(self, ws: Any, payload: Point) -> None:
        self.calls.append(("lax", payload))

    @handles_message("anything")
    async def anything(self, ws: Any, payload) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(("anything", payload))

    async def on_send_message(self, ws: Any, payload: Point | None) -> None:
        self.calls.append(("convention", payload))

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        self.calls.append(("unhandled", message))


async def dispatch(resource: WebSocketResource, raw: str | bytes) -> None:
    ws = WebSocketSimulator()
    await ws.accept()
    await resource.dispatch(ws, raw)


async def test_envelope_payload_is_decoded_to_the_annotation() -> None:
    r = Recorder()
    await dispatch(r, '{"payload": {"x": 1, "y": 2}, "type": "point"}')
    assert r.calls == [("point", Point(1, 2))]


async def test_missing_or_null_payload_is_validated_against_the_annotation() -> None:
    r = Recorder()
    await dispatch(r, '{"type": "point"}')
    await dispatch(r, '{"type": "point", "payload": null}')
    await dispatch(r, '{"type": "anything"}')
    assert r.calls == [
        ("unhandled", '{"type": "point"}'),
        ("unhandled", '{"type": "point", "payload": null}'),
        ("anything", None),
    ]


async def test_strict_rejects_unknown_fields_and_wrong_types() -> None:
    r = Recorder()
    await dispatch(r, '{"type": "point", "payload": {"x": 1, "y": 2, "z": 3}}')
    await dispatch(r, '{"type": "point", "payload": {"x": "1", "y": 2}}')
    assert [c[0] for c in r.calls] == ["unhandled", "unhandled"]


async def test_lax_ignores_unknown_fields_and_converts() -> None:
    r = Recorder()
    await dispatch(r, '{"type": "lax", "payload": {"x": "1", "y": 2, "z": 3}}')
    assert r.calls == [("lax", Point(1, 2))]


async def test_unannotated_payload_is_plain_json() -> None:
    r = Recorder()
    await dispatch(r, '{"type": "anything", "payload": [1, {"a": null}]}')
    assert r.calls == [("anything", [1, {"a": None}])]


async def test_convention_handler_by_snake_case_tag() -> None:
    r = Recorder()
    await dispatch(r, '{"type": "sendMessage", "payload": {"x": 0, "y": 0}}')
    await dispatch(r, '{"type": "send.message"}')
    assert r.calls == [("convention", Point(0, 0)), ("convention", None)]


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        '{"payload": 1}',
        '{"type": 5}',
        '{"type": "nobody"}',
        '{"type": "connect"}',
        '{"type": "unhandled"}',
        '{"type": "point", "payload": {"x": 1}',
    ],
)
async def test_bad_frames_reach_on_unhandled(raw: str) -> None:
    r = Recorder()
    await dispatch(r, raw)
    assert r.calls == [("unhandled", raw)]


async def test_binary_frames_are_dispatched_by_default() -> None:
    r = Recorder()
    await dispatch(r, b'{"type": "point", "payload": {"x": 1, "y": 2}}')
    assert r.calls == [("point", Point(1, 2))]


async def test_binary_frames_can_go_to_on_unhandled_or_close() -> None:
    class Unhandling(Recorder):
        binary_frames = "unhandled"

    class Closing(Recorder):
        binary_frames = "close"

    r = Unhandling()
    await dispatch(r, b'{"type": "point", "payload": {"x": 1, "y": 2}}')
    assert r.calls == [("unhandled", b'{"type": "point", "payload": {"x": 1, "y": 2}}')]
    c = Closing()
    ws = WebSocketSimulator()
    await ws.accept()
    await c.dispatch(ws, b"{}")
    assert ws.close_code == 1003 and c.close_code == 1003


async def test_validation_error_hook_replaces_on_unhandled() -> None:
    seen: list[Any] = []

    class Hooked(Recorder):
        async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
            seen.append((type(error).__name__, raw))
            self.calls.append(("hook", None))

    r = Hooked()
    await dispatch(r, '{"type": "point", "payload": {"x": "no"}}')
    await dispatch(r, "nope")
    assert seen == [
        ("ValidationError", '{"type": "point", "payload": {"x": "no"}}'),
        ("FrameError", "nope"),
    ]
    assert [c[0] for c in r.calls] == ["hook", "hook"]


@pytest.mark.parametrize("code", [1003, 1007, 1008])
async def test_resource_may_close_on_invalid_frames(code: int) -> None:
    cls = type("Closer", (Recorder,), {"invalid_frame_close_code": code})
    r = cls()
    ws = WebSocketSimulator()
    await ws.accept()
    await r.dispatch(ws, "garbage")
    assert ws.close_code == code and r.calls == []


def test_invalid_close_code_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid_frame_close_code"):
        type("Bad", (Recorder,), {"invalid_frame_close_code": 1011})


async def test_oversized_frame_closes_1009() -> None:
    class Small(Recorder):
        max_frame_size = 32

    r = Small()
    ws = WebSocketSimulator()
    await ws.accept()
    await r.dispatch(ws, '{"type": "point", "payload": {"x": 1, "y": 2}}')
    assert ws.close_code == 1009 and r.calls == []


async def test_add_handler_on_an_instance() -> None:
    r = Recorder()

    async def extra(self: Recorder, ws: Any, payload: Point) -> None:
        self.calls.append(("extra", payload))

    r.add_handler("extra", extra)
    r.add_handler("raw", extra, payload_type=dict[str, int], strict=False)
    await dispatch(r, '{"type": "extra", "payload": {"x": 5, "y": 6}}')
    await dispatch(r, '{"type": "raw", "payload": {"x": 5}}')
    assert r.calls == [("extra", Point(5, 6)), ("extra", {"x": 5})]
    assert Recorder().handlers.get("extra") is None  # the class is untouched


class Join(msgspec.Struct, tag="join"):
    room: str


class Leave(msgspec.Struct, tag="leave"):
    room: str


class Shout(msgspec.Struct, tag="shout"):
    text: str


class SchemaResource(WebSocketResource):
    schema = Join | Leave | Shout

    def __init__(self) -> None:
        self.calls: list[Any] = []

    @handles_message("join")
    async def joined(self, ws: Any, msg: Join) -> None:
        self.calls.append(msg)

    async def on_leave(self, ws: Any, msg: Leave) -> None:
        self.calls.append(("conv", msg))

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        self.calls.append(("unhandled", message))


async def test_schema_format_dispatch() -> None:
    r = SchemaResource()
    await dispatch(r, '{"type": "join", "room": "a"}')
    await dispatch(r, '{"room": "b", "type": "leave"}')
    await dispatch(r, '{"type": "shout", "text": "hi"}')  # no handler: on_unhandled
    await dispatch(r, '{"type": "dance"}')
    await dispatch(r, '{"type": "join", "room": 5}')
    assert r.calls == [
        Join("a"),
        ("conv", Leave("b")),
        ("unhandled", '{"type": "shout", "text": "hi"}'),
        ("unhandled", '{"type": "dance"}'),
        ("unhandled", '{"type": "join", "room": 5}'),
    ]


def test_schema_members_must_be_tagged_structs() -> None:
    class Untagged(msgspec.Struct):
        a: int

    with pytest.raises(TypeError, match="tagged msgspec Structs"):
        type("Bad", (WebSocketResource,), {"schema": Join | Untagged})


def test_two_handlers_for_one_schema_struct() -> None:
    with pytest.raises(ValueError, match="Duplicate payload type"):

        class Bad(WebSocketResource):
            schema = Join | Leave

            @handles_message("a")
            async def one(self, ws: Any, payload: Join) -> None: ...

            @handles_message("b")
            async def two(self, ws: Any, payload: Join) -> None: ...

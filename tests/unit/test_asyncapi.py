"""AsyncAPI documents (§5.11): valid against the official schema, and true to dispatch.

"True to dispatch" is checked as a round trip: for every frame in a corpus of
good and bad frames, the resource's own ``route`` decides whether a handler
takes it, and the generated payload schemas must agree: an accepted frame
matches exactly its handler's message, a refused one matches none.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, ClassVar, Generic, TypeVar

import falcon.asgi
import falcon.testing
import msgspec
import pytest

import falcon_pachinko as fp
from falcon_pachinko.asyncapi import AsyncAPIWarning, DocumentResource, build_document

from ..integration.apps import build_app
from ..support.asyncapi import assert_valid_document, matching, messages

T = TypeVar("T")


class Point(msgspec.Struct):
    x: int
    y: int


class Say(msgspec.Struct):
    """Something said in a room."""

    text: str
    to: list[str] = []


class Loose(msgspec.Struct):
    note: str
    at: Point | None = None


class Box(msgspec.Struct, Generic[T]):
    item: T


class Circle(msgspec.Struct, tag="circle"):
    r: float


class Square(msgspec.Struct, tag="square"):
    side: float


class Said(msgspec.Struct, tag="said"):
    """A message someone said."""

    name: str
    text: str


class Joined(msgspec.Struct, tag="joined"):
    name: str


class Envelope(fp.WebSocketResource):
    """Envelope format with every kind of payload annotation."""

    sends: ClassVar[tuple[Any, ...]] = (Said, Joined)

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        """Say something to the room."""

    @fp.handles_message("maybe")
    async def maybe(self, ws: Any, payload: Say | None) -> None: ...

    @fp.handles_message("box")
    async def box(self, ws: Any, payload: Box[int]) -> None: ...

    @fp.handles_message("pair")
    async def pair(self, ws: Any, payload: tuple[int, str]) -> None: ...

    @fp.handles_message("shape")
    async def shape(self, ws: Any, payload: Circle | Square) -> None: ...

    @fp.handles_message("loose")
    async def loose(self, ws: Any, payload: Loose) -> None: ...

    async def on_ping(self, ws: Any, payload: Any) -> None:
        """Convention handler without an annotation: any payload."""

    async def on_count(self, ws: Any, payload: int) -> None: ...


class Opaque:
    """A payload type msgspec has no JSON Schema for."""


class Add(msgspec.Struct, tag="add"):
    a: int
    b: int


class Neg(msgspec.Struct, tag="neg"):
    a: int


class Unused(msgspec.Struct, tag="unused"):
    a: int


class Calc(fp.WebSocketResource):
    """Schema (flat tagged) format: no handler for ``unused``."""

    schema = Add | Neg | Unused

    @fp.handles_message("add")
    async def add(self, ws: Any, msg: Add) -> None: ...

    async def on_neg(self, ws: Any, msg: Neg) -> None: ...


def app_with(*routes: tuple[str, Any], prefix: str = "/ws") -> falcon.asgi.App:
    app = falcon.asgi.App()
    router = fp.WebSocketRouter()
    for path, resource in routes:
        router.add_route(path, resource)
    router.mount(prefix, app=app)
    return app


def doc_for(target: Any, **options: Any) -> dict[str, Any]:
    doc = build_document(target, **options)
    assert_valid_document(doc)
    json.dumps(doc)  # JSON-ready
    return doc


def accepted_tag(resource: fp.WebSocketResource, frame: Any) -> bool:
    entry, _value = resource._route(json.dumps(frame))  # the dispatcher's own verdict
    return entry.fn is not None


ENVELOPE_FRAMES: list[tuple[Any, str | None]] = [
    ({"type": "say", "payload": {"text": "hi"}}, "say"),
    ({"type": "say", "payload": {"text": "hi", "to": ["a"]}, "extra": 1}, "say"),
    ({"type": "say", "payload": {"text": "hi", "mood": "x"}}, None),  # strict: unknown field
    ({"type": "say", "payload": {"text": 3}}, None),
    ({"type": "maybe"}, "maybe"),
    ({"type": "maybe", "payload": None}, "maybe"),
    ({"type": "maybe", "payload": {"text": "x"}}, "maybe"),
    ({"type": "maybe", "payload": {"txt": "x"}}, None),
    ({"type": "box", "payload": {"item": 3}}, "box"),
    ({"type": "box", "payload": {"item": "3"}}, None),
    ({"type": "pair", "payload": [1, "a"]}, "pair"),
    ({"type": "pair", "payload": [1, "a", 2]}, None),
    ({"type": "pair", "payload": ["a", 1]}, None),
    ({"type": "shape", "payload": {"type": "circle", "r": 1.5}}, "shape"),
    ({"type": "shape", "payload": {"type": "square", "side": 2}}, "shape"),
    ({"type": "shape", "payload": {"type": "triangle", "side": 2}}, None),
    ({"type": "loose", "payload": {"note": "n", "at": {"x": 1, "y": 2}}}, "loose"),
    ({"type": "loose", "payload": {"note": "n", "at": {"x": 1, "y": 2, "z": 3}}}, "loose"),
    ({"type": "loose", "payload": {"note": "n", "at": {"x": 1}}}, None),
    ({"type": "ping"}, "ping"),
    ({"type": "ping", "payload": {"anything": [1, 2]}}, "ping"),
    ({"type": "count", "payload": 3}, "count"),
    ({"type": "count", "payload": "3"}, None),
    ({"type": "nobody", "payload": {}}, None),
    ({"payload": {"text": "hi"}}, None),
    ([1, 2], None),
]


def test_envelope_document_is_valid_and_lists_every_handler() -> None:
    doc = doc_for(app_with(("/env/{room}", Envelope)))
    channel = doc["channels"]["ws_env_room"]
    assert channel["address"] == "/ws/env/{room}"
    assert channel["title"] == "Envelope"
    received = messages(doc, "ws_env_room", "receive")
    assert set(received) == {"say", "maybe", "box", "pair", "shape", "loose", "ping", "count"}
    assert received["say"]["summary"] == "Say something to the room."
    # Component names AsyncAPI refuses ("Box[int]") are renamed, refs follow.
    assert all("[" not in name for name in doc["components"]["schemas"])


@pytest.mark.parametrize(("frame", "tag"), ENVELOPE_FRAMES)
def test_envelope_round_trip(frame: Any, tag: str | None) -> None:
    doc = doc_for(app_with(("/env/{room}", Envelope)))
    accepted = accepted_tag(Envelope(), frame)
    assert accepted == (tag is not None)  # the corpus itself is right
    assert matching(doc, "ws_env_room", "receive", frame) == ([tag] if tag else [])


def test_null_or_missing_payload_needs_an_optional_annotation() -> None:
    """§6.2: ``payload: Say`` never receives ``None``; ``Say | None`` does.

    Only the schema side is checked here: dispatch on main still passes
    ``None`` to ``payload: Say`` until the §6.2 change lands, and the
    document follows the contract, not that gap.
    """
    doc = doc_for(app_with(("/env/{room}", Envelope)))
    for frame in ({"type": "say", "payload": None}, {"type": "say"}):
        assert matching(doc, "ws_env_room", "receive", frame) == []
    assert matching(doc, "ws_env_room", "receive", {"type": "count"}) == []
    for frame in ({"type": "maybe", "payload": None}, {"type": "maybe"}):
        assert matching(doc, "ws_env_room", "receive", frame) == ["maybe"]


def test_lax_handler_schema_is_the_canonical_form() -> None:
    class Lax(fp.WebSocketResource):
        @fp.handles_message("say", strict=False)
        async def say(self, ws: Any, payload: Say) -> None: ...

    doc = doc_for(app_with(("/lax", Lax)))
    extra = {"type": "say", "payload": {"text": "hi", "mood": "x"}}
    assert accepted_tag(Lax(), extra)  # lax ignores unknown fields ...
    assert matching(doc, "ws_lax", "receive", extra) == ["say"]  # ... and so does its schema


SCHEMA_FRAMES: list[tuple[Any, str | None]] = [
    ({"type": "add", "a": 1, "b": 2}, "add"),
    ({"b": 2, "type": "add", "a": 1}, "add"),
    ({"type": "add", "a": 1}, None),
    ({"type": "add", "a": "1", "b": 2}, None),
    ({"type": "neg", "a": -4}, "neg"),
    ({"type": "unused", "a": 1}, None),  # a schema member without a handler
    ({"type": "other", "a": 1}, None),
    ({"a": 1, "b": 2}, None),
]


@pytest.mark.parametrize(("frame", "tag"), SCHEMA_FRAMES)
def test_schema_format_round_trip(frame: Any, tag: str | None) -> None:
    doc = doc_for(app_with(("/calc", Calc)))
    assert accepted_tag(Calc(), frame) == (tag is not None)
    assert matching(doc, "ws_calc", "receive", frame) == ([tag] if tag else [])
    message = messages(doc, "ws_calc", "receive").get("add")
    assert message is not None and message["x-pachinko-format"] == "flat"


def test_send_operations_from_the_sends_declaration() -> None:
    doc = doc_for(app_with(("/env/{room}", Envelope)))
    sent = messages(doc, "ws_env_room", "send")
    assert set(sent) == {"sent.said", "sent.joined"}
    assert sent["sent.said"]["name"] == "said"
    assert sent["sent.said"]["summary"] == "A message someone said."
    frame = msgspec.to_builtins(Said(name="ann", text="hi"))
    assert matching(doc, "ws_env_room", "send", frame) == ["sent.said"]
    assert matching(doc, "ws_env_room", "send", {"type": "said", "name": "ann"}) == []
    assert matching(doc, "ws_env_room", "receive", frame) == []


def test_no_sends_declaration_means_no_send_operations() -> None:
    doc = doc_for(app_with(("/calc", Calc)))
    assert messages(doc, "ws_calc", "send") == {}


@pytest.mark.parametrize(
    ("template", "address", "expected"),
    [
        ("/items/{item_id:int}", "/ws/items/{item_id}", {"type": "integer"}),
        (
            "/items/{item_id:int(min=1)}",
            "/ws/items/{item_id}",
            {"type": "integer", "minimum": 1},
        ),
        ("/items/{item_id:int(3, 100, 999)}", "/ws/items/{item_id}", None),
        ("/u/{uid:uuid}", "/ws/u/{uid}", {"type": "string", "format": "uuid"}),
        ("/t/{when:dt}", "/ws/t/{when}", {"type": "string", "format": "date-time"}),
        ("/t/{day:dt('%Y-%m-%d')}", "/ws/t/{day}", {"type": "string"}),
        ("/f/{ratio:float(0, 1)}", "/ws/f/{ratio}", {"type": "number", "minimum": 0, "maximum": 1}),
        ("/files/{rest:path}", "/ws/files/{rest}", {"type": "string"}),
        ("/r/{code:re('[a-z]+')}", "/ws/r/{code}", {"type": "string", "pattern": "[a-z]+"}),
        ("/plain/{name}", "/ws/plain/{name}", {"type": "string"}),
    ],
)
def test_converters_become_plain_parameters(
    template: str, address: str, expected: dict[str, Any] | None
) -> None:
    class Res(fp.WebSocketResource):
        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            return True

    doc = doc_for(app_with((template, Res)))
    (channel,) = doc["channels"].values()
    assert channel["address"] == address
    (param,) = channel["parameters"].values()
    if expected is not None:
        assert param["x-schema"] == expected
    if ":" in template:
        assert param["x-falcon-converter"] == template.split(":", 1)[1].rsplit("}", 1)[0]
        assert "Falcon converter" in param["description"]


def test_int_converter_positional_arguments() -> None:
    class Res(fp.WebSocketResource):
        async def on_connect(self, req: Any, ws: Any, **params: Any) -> bool:
            return True

    doc = doc_for(app_with(("/i/{n:int(3, 100, 999)}", Res)))
    param = doc["channels"]["ws_i_n"]["parameters"]["n"]
    assert param["x-schema"] == {"type": "integer", "minimum": 100, "maximum": 999}
    assert "exactly 3 digits" in param["description"]


def test_mount_prefixes_sink_add_route_and_explicit_routers() -> None:
    app = falcon.asgi.App()
    sunk = fp.WebSocketRouter()
    sunk.add_route("/calc", Calc)
    sunk.mount("/api/ws", app=app)
    routed = fp.WebSocketRouter()
    routed.add_route("/calc", Calc)
    routed.add_route("/", Calc)
    app.add_route("/v2/{path:path}", routed)
    app.add_route("/v2", routed)  # the same router again: documented once
    doc = doc_for(app)
    addresses = sorted(c["address"] for c in doc["channels"].values())
    assert addresses == ["/api/ws/calc", "/v2", "/v2/calc"]
    # Explicit routers: each at its mount prefix.
    lone = fp.WebSocketRouter()
    lone.add_route("/calc", Calc)
    assert [c["address"] for c in doc_for(lone)["channels"].values()] == ["/calc"]
    assert [c["address"] for c in doc_for([sunk, lone])["channels"].values()] == [
        "/api/ws/calc",
        "/calc",
    ]


def test_legacy_add_websocket_route_uses_full_paths() -> None:
    app = falcon.asgi.App()
    fp.install(app)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app.add_websocket_route("/legacy/{room}", Envelope)  # type: ignore[attr-defined]
    doc = doc_for(app)
    assert [c["address"] for c in doc["channels"].values()] == ["/legacy/{room}"]


def test_nested_subroutes_are_channels_with_all_parameters() -> None:
    doc = doc_for(build_app())
    by_address = {c["address"]: c for c in doc["channels"].values()}
    member = by_address["/ws/orgs/{org}/teams/{team}/members/{member}"]
    assert member["title"] == "Member"
    assert set(member["parameters"]) == {"org", "team", "member"}
    assert member["parameters"]["member"]["x-schema"] == {"type": "integer"}
    assert "/ws/orgs/{org}/teams/{team}" in by_address
    key = next(k for k, c in doc["channels"].items() if c is member)
    assert set(messages(doc, key, "receive")) == {"whoami"}


def test_a_constructor_that_fails_is_a_warning_not_an_error() -> None:
    class Needy(fp.WebSocketResource):
        def __init__(self, db: Any) -> None:
            self.add_subroute("/child", Calc)

        async def on_ping(self, ws: Any, payload: Any) -> None: ...

    with pytest.warns(AsyncAPIWarning, match="constructing the resource failed"):
        doc = doc_for(app_with(("/needy", Needy)))
    assert [c["address"] for c in doc["channels"].values()] == ["/ws/needy"]
    assert set(messages(doc, "ws_needy", "receive")) == {"ping"}


def test_a_self_nesting_resource_is_documented_once() -> None:
    class Loop(fp.WebSocketResource):
        def __init__(self) -> None:
            self.add_subroute("/again", Loop)

    with pytest.warns(AsyncAPIWarning, match="nests itself"):
        doc = doc_for(app_with(("/loop", Loop)))
    assert sorted(c["address"] for c in doc["channels"].values()) == [
        "/ws/loop",
        "/ws/loop/again",
    ]


def test_an_undescribable_payload_type_is_any_json_with_a_warning() -> None:
    class Odd(fp.WebSocketResource):
        @fp.handles_message("odd")
        async def odd(self, ws: Any, payload: Opaque) -> None: ...

    with pytest.warns(AsyncAPIWarning, match="cannot describe"):
        doc = doc_for(app_with(("/odd", Odd)))
    assert messages(doc, "ws_odd", "receive")["odd"]["payload"]["properties"]["payload"] == {}


def test_info_options_and_unusual_tags() -> None:
    class Tags(fp.WebSocketResource):
        @fp.handles_message("user typing/now")
        async def typing(self, ws: Any, payload: None) -> None: ...

    doc = doc_for(app_with(("/tags", Tags)), title="Chat", version="2.1", description="d")
    assert doc["info"] == {"title": "Chat", "version": "2.1", "description": "d"}
    (message,) = messages(doc, "ws_tags", "receive").values()
    assert message["name"] == "user typing/now"
    assert matching(doc, "ws_tags", "receive", {"type": "user typing/now"}) == ["user_typing_now"]


def test_bad_targets_raise_type_error() -> None:
    with pytest.raises(TypeError, match="expected a Falcon app"):
        build_document(42)
    with pytest.raises(TypeError, match="expected a Falcon app"):
        build_document([fp.WebSocketRouter(), "x"])


def test_document_resource_serves_the_document() -> None:
    app = app_with(("/calc", Calc))
    app.add_route("/asyncapi.json", DocumentResource(app, title="Calc"))
    result = falcon.testing.simulate_get(app, "/asyncapi.json")
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("application/json")
    assert result.json["info"]["title"] == "Calc"
    assert_valid_document(result.json)

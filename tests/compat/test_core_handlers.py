"""Published handler registration (DESIGN §6.3), written as user code would be:
``add_handler`` on the class and on an instance, overriding a decorated
handler with a plain ``async def``, ``HandlerInfo`` fields, the ``state``
setter check, and the duplicate-payload error naming the handler.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from falcon_pachinko import WebSocketResource, handles_message
from falcon_pachinko.testing import WebSocketSimulator


class Greeting(msgspec.Struct):
    text: str


async def _accepted() -> WebSocketSimulator:
    ws = WebSocketSimulator()
    await ws.accept()
    return ws


async def test_add_handler_on_the_class_is_class_wide() -> None:
    class Echo(WebSocketResource):
        def __init__(self) -> None:
            self.seen: list[Any] = []

    async def greet(self: Echo, ws: Any, payload: Any) -> None:
        self.seen.append(payload)

    Echo.add_handler("greet", greet, payload_type=Greeting)
    first, second = Echo(), Echo()
    ws = await _accepted()
    await first.dispatch(ws, '{"type": "greet", "payload": {"text": "hi"}}')
    await second.dispatch(ws, '{"type": "greet", "payload": {"text": "yo"}}')
    assert first.seen == [Greeting("hi")] and second.seen == [Greeting("yo")]
    info = Echo.handlers["greet"]
    assert info.handler is greet and info.payload_type is Greeting and info.strict is True


async def test_class_add_handler_reaches_existing_subclasses() -> None:
    class Base(WebSocketResource):
        def __init__(self) -> None:
            self.seen: list[Any] = []

    class Child(Base):
        pass

    async def ping(self: Base, ws: Any, payload: Any) -> None:
        self.seen.append(payload)

    Base.add_handler("ping", ping, strict=False)
    child = Child()
    await child.dispatch(await _accepted(), '{"type": "ping", "payload": [1]}')
    assert child.seen == [[1]]
    assert Child.handlers["ping"].strict is False


async def test_add_handler_on_an_instance_is_for_that_instance_only() -> None:
    class Echo(WebSocketResource):
        def __init__(self) -> None:
            self.seen: list[Any] = []

        async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
            self.seen.append("unhandled")

    async def greet(self: Echo, ws: Any, payload: Greeting) -> None:
        self.seen.append(payload)

    mine, other = Echo(), Echo()
    mine.add_handler("greet", greet)
    ws = await _accepted()
    frame = '{"type": "greet", "payload": {"text": "hi"}}'
    await mine.dispatch(ws, frame)
    await other.dispatch(ws, frame)
    assert mine.seen == [Greeting("hi")] and other.seen == ["unhandled"]
    assert "greet" in mine.handlers and "greet" not in Echo.handlers


async def test_plain_override_of_a_decorated_handler_keeps_the_tag() -> None:
    class Base(WebSocketResource):
        def __init__(self) -> None:
            self.seen: list[Any] = []

        @handles_message("greet")
        async def handle_greet(self, ws: Any, payload: Greeting) -> None:
            self.seen.append(("base", payload))

    class Child(Base):
        async def handle_greet(self, ws: Any, payload: Greeting) -> None:
            self.seen.append(("child", payload))

    child = Child()
    await child.dispatch(await _accepted(), '{"type": "greet", "payload": {"text": "hi"}}')
    assert child.seen == [("child", Greeting("hi"))]
    assert Child.handlers["greet"].handler is Child.__dict__["handle_greet"]
    assert Base.handlers["greet"].handler is Base.__dict__["handle_greet"]


async def test_override_without_annotation_keeps_the_payload_type() -> None:
    class Base(WebSocketResource):
        @handles_message("greet")
        async def handle_greet(self, ws: Any, payload: Greeting) -> None:
            raise AssertionError("overridden")

    class Child(Base):
        got: Any = None

        async def handle_greet(self, ws, payload):  # type: ignore[no-untyped-def]
            type(self).got = payload

    await Child().dispatch(await _accepted(), '{"type": "greet", "payload": {"text": "x"}}')
    assert Child.got == Greeting("x")


async def test_missing_or_unresolvable_annotation_means_payload_type_none() -> None:
    class Loose(WebSocketResource):
        got: list[Any] = []

        @handles_message("bare")
        async def bare(self, ws, payload):  # type: ignore[no-untyped-def]
            self.got.append(payload)

        @handles_message("later")
        async def later(self, ws: Any, payload: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
            self.got.append(payload)

    assert Loose.handlers["bare"].payload_type is None
    assert Loose.handlers["later"].payload_type is None
    r, ws = Loose(), await _accepted()
    await r.dispatch(ws, '{"type": "bare", "payload": {"a": [1, 2]}}')
    await r.dispatch(ws, '{"type": "later", "payload": "text"}')
    assert Loose.got == [{"a": [1, 2]}, "text"]


def test_state_setter_refuses_what_is_not_a_mapping() -> None:
    r = WebSocketResource()
    bad: Any
    for bad in (42, "text", frozenset(), None):
        with pytest.raises(TypeError, match="state must be a mapping"):
            r.state = bad

    class Proxy:  # a Redis-hash proxy, say: only the three methods
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}

        def __getitem__(self, key: str) -> Any:
            return self.data[key]

        def __setitem__(self, key: str, value: Any) -> None:
            self.data[key] = value

        def __iter__(self) -> Any:
            return iter(self.data)

    proxy = Proxy()
    r.state = proxy  # type: ignore[assignment]
    r.state["k"] = 1
    state: Any = r.state
    assert state is proxy and proxy.data == {"k": 1}


class Join(msgspec.Struct, tag="join"):
    room: str


def test_duplicate_payload_type_names_the_handlers_qualname() -> None:
    with pytest.raises(ValueError, match=r"Twice\.first.*Twice\.second"):

        class Twice(WebSocketResource):
            schema = Join

            @handles_message("a")
            async def first(self, ws: Any, payload: Join) -> None: ...

            @handles_message("b")
            async def second(self, ws: Any, payload: Join) -> None: ...

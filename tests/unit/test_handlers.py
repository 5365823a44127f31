"""@handles_message and the on_<tag> convention: registration rules (§5.4)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from falcon_pachinko import (
    DuplicateHandlerRegistrationError,
    HandlerNotAsyncError,
    HandlerSignatureError,
    WebSocketResource,
    handles_message,
)
from falcon_pachinko.handlers import snake_case


class Msg(msgspec.Struct):
    text: str


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("sendMessage", "send_message"),
        ("user.typing", "user_typing"),
        ("HTTPServer", "http_server"),
        ("already_snake", "already_snake"),
        ("Join-Room!!now", "join_room_now"),
    ],
)
def test_snake_case(tag: str, expected: str) -> None:
    assert snake_case(tag) == expected


def test_sync_handler_is_refused() -> None:
    with pytest.raises(HandlerNotAsyncError) as info:

        class R(WebSocketResource):
            @handles_message("x")
            def handler(self, ws: Any, payload: Any) -> None: ...

    assert isinstance(info.value, TypeError)


def test_too_few_parameters() -> None:
    with pytest.raises(HandlerSignatureError) as info:

        class R(WebSocketResource):
            @handles_message("x")
            async def handler(self, ws: Any) -> None: ...

    assert isinstance(info.value, TypeError)


def test_two_annotated_candidates_are_ambiguous() -> None:
    with pytest.raises(HandlerSignatureError, match="Ambiguous payload parameter"):

        class R(WebSocketResource):
            @handles_message("x")
            async def handler(self, ws: Any, a: Msg, b: Msg) -> None: ...


def test_parameter_named_payload_wins() -> None:
    class R(WebSocketResource):
        @handles_message("x")
        async def handler(self, ws: Any, meta: int = 0, payload: Msg | None = None) -> None: ...

    info = R.handlers["x"]
    assert info.payload_param == "payload"
    assert info.payload_type == Msg | None
    assert not info.positional


def test_single_annotated_parameter_is_payload() -> None:
    class R(WebSocketResource):
        @handles_message("x")
        async def handler(self, ws: Any, extra=None, *, body: Msg) -> None: ...  # type: ignore[no-untyped-def]

    assert R.handlers["x"].payload_param == "body"
    assert R.handlers["x"].payload_type is Msg


def test_third_parameter_by_default() -> None:
    class R(WebSocketResource):
        @handles_message("x")
        async def handler(self, ws, data):  # type: ignore[no-untyped-def]
            ...

    assert R.handlers["x"].payload_param == "data"
    assert R.handlers["x"].positional


def test_duplicate_tag_in_one_class_body() -> None:
    with pytest.raises(DuplicateHandlerRegistrationError, match="Duplicate handler") as info:

        class R(WebSocketResource):
            @handles_message("x")
            async def one(self, ws: Any, payload: Any) -> None: ...

            @handles_message("x")
            async def two(self, ws: Any, payload: Any) -> None: ...

    assert isinstance(info.value, RuntimeError)


def test_duplicate_tag_with_same_method_name() -> None:
    with pytest.raises(DuplicateHandlerRegistrationError):

        class R(WebSocketResource):
            @handles_message("x")
            async def handler(self, ws: Any, payload: Any) -> None: ...

            @handles_message("x")  # type: ignore[no-redef]
            async def handler(self, ws: Any, payload: Any) -> None: ...  # noqa: F811


def test_subclass_may_override_a_parent_tag() -> None:
    class Base(WebSocketResource):
        @handles_message("x")
        async def handler(self, ws: Any, payload: Any) -> None: ...

    class Child(Base):
        @handles_message("x")
        async def other(self, ws: Any, payload: Msg) -> None: ...

    assert Child.handlers["x"].fn is Child.other
    assert Base.handlers["x"].fn is Base.handler


def test_decorated_function_stays_callable() -> None:
    class R(WebSocketResource):
        @handles_message("x")
        async def handler(self, ws: Any, payload: Any) -> str:
            return "called"

    import asyncio

    assert asyncio.run(R().handler(None, None)) == "called"

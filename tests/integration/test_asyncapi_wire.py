"""The generated document against real traffic: uvicorn, Falcon, websockets.

Every frame a client sends is checked against the channel's receive
messages, and every frame the server sends back must match exactly one of
the channel's declared send messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from falcon_pachinko.asyncapi import build_document

from ..support.asyncapi import assert_valid_document, matching
from ..support.server import RunningServer, running_server
from .asyncapi_app import create_app


@pytest.fixture
async def served() -> AsyncIterator[tuple[RunningServer, dict[str, Any]]]:
    app = create_app()
    doc = build_document(app)
    assert_valid_document(doc)
    async with running_server(app) as server:
        yield server, doc


async def recv_json(ws: Any) -> Any:
    async with asyncio.timeout(5):
        return json.loads(await ws.recv(decode=True))


FRAMES: list[tuple[Any, bool]] = [
    ({"type": "say", "payload": {"text": "hi"}}, True),
    ({"type": "say", "payload": {"text": "hi"}, "id": 7}, True),
    ({"type": "say", "payload": {"text": 1}}, False),
    ({"type": "say", "payload": {"text": "hi", "extra": True}}, False),
    ({"type": "shout", "payload": {"text": "hi"}}, False),
    ({"text": "hi"}, False),
]


async def test_frames_and_replies_follow_the_document(
    served: tuple[RunningServer, dict[str, Any]],
) -> None:
    server, doc = served
    channel = "ws_rooms_room"
    async with connect(server.ws_url + "/ws/rooms/lobby", open_timeout=5) as ws:
        for frame, handled in FRAMES:
            assert matching(doc, channel, "receive", frame) == (["say"] if handled else [])
            await ws.send(json.dumps(frame))
            reply = await recv_json(ws)
            assert matching(doc, channel, "send", reply) == [
                "sent.said" if handled else "sent.problem"
            ]


@pytest.mark.parametrize(("segment", "connects"), [("5", True), ("0", False), ("x", False)])
async def test_converter_parameter_schema_matches_what_connects(
    served: tuple[RunningServer, dict[str, Any]], segment: str, connects: bool
) -> None:
    server, doc = served
    param = doc["channels"]["ws_items_item_id"]["parameters"]["item_id"]
    value: Any = int(segment) if segment.isdigit() else segment
    assert jsonschema.Draft7Validator(param["x-schema"]).is_valid(value) == connects
    url = f"{server.ws_url}/ws/items/{segment}"
    if not connects:
        with pytest.raises(InvalidStatus):
            async with connect(url, open_timeout=5):
                pass
        return
    async with connect(url, open_timeout=5) as ws:
        await ws.send(json.dumps({"type": "get"}))
        reply = await recv_json(ws)
        assert reply == {"type": "item", "item_id": 5}
        assert matching(doc, "ws_items_item_id", "send", reply) == ["sent.item"]

"""The chat demo over real uvicorn and real websockets clients.

What a browser does, frame by frame: join with a name, be told your name,
see members come, go and rename, typing, history, validation errors. Every
frame either way is also checked against the demo's own AsyncAPI document
(the one it serves at ``/asyncapi.json``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from examples.chat.app import create_app
from examples.chat.roster import HISTORY
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from ..support.asyncapi import assert_valid_document, matching
from ..support.server import RunningServer, running_server

CHANNEL = "room"


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


class Peer:
    """A websockets client that checks every frame against the document."""

    def __init__(self, ws: ClientConnection, doc: dict[str, Any]) -> None:
        self.ws, self.doc = ws, doc
        self.inbox: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any], *, valid: bool = True) -> None:
        assert bool(matching(self.doc, CHANNEL, "receive", frame)) == valid, frame
        await self.ws.send(json.dumps(frame))

    async def expect(self, kind: str) -> dict[str, Any]:
        """The next frame of ``kind`` (others are kept in ``inbox``), within 5 s."""
        async with asyncio.timeout(5):
            while True:
                frame = json.loads(await self.ws.recv())
                assert matching(self.doc, CHANNEL, "send", frame) == [f"sent.{frame['type']}"]
                if frame["type"] == kind:
                    return frame  # type: ignore[no-any-return]
                self.inbox.append(frame)


@pytest.fixture
async def served() -> AsyncIterator[tuple[RunningServer, dict[str, Any]]]:
    async with running_server(create_app(presence_interval=0.05)) as srv:
        status, body = await http_get(srv.port, "/asyncapi.json")
        assert status == 200
        doc = json.loads(body)
        assert_valid_document(doc)
        yield srv, doc


def join(srv: RunningServer, doc: dict[str, Any], name: str, room: str = "lobby") -> Any:
    url = f"{srv.ws_url}/ws/chat/{room}?name={quote(name)}"

    class Joining:
        async def __aenter__(self) -> Peer:
            self.ws = await connect(url, open_timeout=5)
            return Peer(self.ws, doc)

        async def __aexit__(self, *exc: object) -> None:
            await self.ws.close()

    return Joining()


async def test_page_and_static_files_are_served(
    served: tuple[RunningServer, dict[str, Any]],
) -> None:
    srv, _ = served
    status, page = await http_get(srv.port, "/")
    assert status == 200 and b"falcon-pachinko chat" in page and b"/static/chat.js" in page
    for path, needle in [("/static/chat.js", b"wss"), ("/static/chat.css", b"--accent")]:
        status, body = await http_get(srv.port, path)
        assert status == 200 and needle in body


async def test_join_tells_your_name_and_the_members(
    served: tuple[RunningServer, dict[str, Any]],
) -> None:
    srv, doc = served
    async with join(srv, doc, "  alice  ") as alice:
        welcome = await alice.expect("welcome")
        assert welcome == {
            "type": "welcome", "name": "alice", "room": "lobby", "members": ["alice"], "history": []
        }  # fmt: skip
        async with join(srv, doc, "bob") as bob:
            assert (await bob.expect("welcome"))["members"] == ["alice", "bob"]
            joined = await alice.expect("joined")
            assert joined == {"type": "joined", "name": "bob", "members": ["alice", "bob"]}
        left = await alice.expect("left")
        assert left == {"type": "left", "name": "bob", "members": ["alice"]}


async def test_names_are_unique_and_never_blank(
    served: tuple[RunningServer, dict[str, Any]],
) -> None:
    srv, doc = served
    async with (
        join(srv, doc, "alice") as a1,
        join(srv, doc, "ALICE") as a2,
        join(srv, doc, " ") as g,
        join(srv, doc, "\x00\n\u202e") as invisible,
    ):
        hidden = (await invisible.expect("welcome"))["name"]  # control characters dropped
        assert hidden.startswith("guest-")
        assert (await a1.expect("welcome"))["name"] == "alice"
        assert (await a2.expect("welcome"))["name"] == "ALICE-2"
        assert "taken" in (await a2.expect("notice"))["text"]
        guest = (await g.expect("welcome"))["name"]
        assert guest.startswith("guest-")
        await a2.send({"type": "rename", "name": "Alice"})
        error = await a2.expect("error")
        assert error["field"] == "name" and "taken" in error["detail"]
        await a2.send({"type": "rename", "name": "   "}, valid=False)  # the schema refuses it
        error = await a2.expect("error")
        assert error["field"] == "name" and "not blank" in error["detail"]
        await a2.send({"type": "rename", "name": "carol"})
        renamed = await g.expect("renamed")
        assert renamed["old"] == "ALICE-2" and renamed["name"] == "carol"
        assert renamed["members"] == sorted(["alice", "carol", guest, hidden])
    async with join(srv, doc, "alice") as again:  # freed on leave
        assert (await again.expect("welcome"))["name"] == "alice"


async def test_said_reaches_everyone_and_typing_all_but_the_typist(
    served: tuple[RunningServer, dict[str, Any]],
) -> None:
    srv, doc = served
    async with join(srv, doc, "alice") as alice, join(srv, doc, "bob") as bob:
        await alice.expect("welcome")
        await bob.expect("welcome")
        await alice.send({"type": "typing", "active": True})
        assert await bob.expect("typing") == {"type": "typing", "name": "alice", "active": True}
        await alice.send({"type": "say", "text": " hello "})
        for peer in (alice, bob):
            said = await peer.expect("said")
            assert said["name"] == "alice" and said["text"] == "hello"
        assert not any(f["type"] == "typing" for f in alice.inbox)


async def test_history_of_the_last_messages_on_join(
    served: tuple[RunningServer, dict[str, Any]],
) -> None:
    srv, doc = served
    async with join(srv, doc, "alice", room="history") as alice:
        await alice.expect("welcome")
        for n in range(HISTORY + 5):
            await alice.send({"type": "say", "text": f"m{n}"})
        for _ in range(HISTORY + 5):
            await alice.expect("said")
        async with join(srv, doc, "bob", room="history") as bob:
            history = (await bob.expect("welcome"))["history"]
    assert [m["text"] for m in history] == [f"m{n}" for n in range(5, HISTORY + 5)]


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"type": "say", "text": "x" * 501}, "text", "1 to 500 characters"),
        ({"type": "say", "text": "   "}, "text", "not blank"),
        ({"type": "say"}, "text", "not blank"),
        ({"type": "say", "text": "hi", "extra": 1}, "extra", "does not fit"),
        ({"type": "typing", "active": "yes"}, "active", "true or false"),
        ({"type": "shout", "text": "hi"}, "type", "Unknown message type"),
        ("{not json", None, "not valid JSON (at byte 1)"),
        ('{"type": "say", "text": "hi"', None, "ends too early"),
        ('{"type": "say", "text": "hi"} x', None, "something after its JSON object"),
        ('{"type": "\\ud83d", "text": "hi"}', None, "half of a character"),
        ("[1, 2]", None, "is a JSON object"),
        ('{"text": "hi"}', "type", 'has no "type"'),
        ('{"type": 1, "text": "hi"}', "type", "must be a string"),
        ('{"type": "say", "text": "hi \\ud83d"}', None, "half of a character"),
        ('{"type": "say", "text": "hi \\ud83d there"}', None, "half of a character"),
    ],
)
async def test_bad_frames_get_a_clear_error(
    served: tuple[RunningServer, dict[str, Any]], raw: Any, field: str | None, words: str
) -> None:
    srv, doc = served
    async with join(srv, doc, "alice") as alice:
        await alice.expect("welcome")
        if isinstance(raw, str):
            await alice.ws.send(raw)
        else:
            await alice.send(raw, valid=False)
        error = await alice.expect("error")
        assert error["field"] == field and words.lower() in error["detail"].lower(), error
        await alice.send({"type": "say", "text": "still here"})  # the connection lives on
        assert (await alice.expect("said"))["text"] == "still here"


async def test_presence_worker_reports_the_room(
    served: tuple[RunningServer, dict[str, Any]],
) -> None:
    srv, doc = served
    async with join(srv, doc, "alice") as alice, join(srv, doc, "bob", room="other") as bob:
        await bob.expect("welcome")
        while (presence := await alice.expect("presence"))["rooms"] < 2:
            pass
        assert presence == {"type": "presence", "count": 1, "online": 2, "rooms": 2}


@pytest.mark.parametrize("room", ["Lobby", "-x", "a" * 33, "a%20b"])
async def test_a_bad_room_name_is_refused(
    served: tuple[RunningServer, dict[str, Any]], room: str
) -> None:
    srv, _ = served
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{srv.ws_url}/ws/chat/{room}", open_timeout=5):
            pass
    assert info.value.response.status_code == 403

"""The chat demo: rooms, names, presence, typing, history and a presence worker.

Run with ``make demo`` (or ``python -m examples.chat``) and open
http://127.0.0.1:8000 in two browser tabs. Only public API is used: schema
dispatch (``schema = Say | Rename | Typing``), the resource's room helpers
(``join_room``, ``broadcast_to_room(..., exclude_self=True)``, ``set_user``),
the manager from ``fp.connection_manager(app)`` (presence, direct sends), a
worker under ``fp.lifespan``, and ``sends`` for the AsyncAPI document served
at ``/asyncapi.json``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import falcon
import falcon.asgi
import msgspec

import falcon_pachinko as fp
from falcon_pachinko.asyncapi import DocumentResource

from .protocol import (
    MAX_NAME,
    MAX_TEXT,
    ClientFrame,
    Error,
    Joined,
    Left,
    Notice,
    Presence,
    Rename,
    Renamed,
    Said,
    Say,
    ServerFrame,
    Typing,
    TypingState,
    Welcome,
)
from .roster import Roster, clean_name, clean_room

__all__ = ["ChatRoom", "Page", "create_app", "presence"]

HERE = Path(__file__).parent
PAGE = (HERE / "index.html").read_bytes()
PRESENCE_INTERVAL = 5.0

# What a refused field means to a person (msgspec's message is kept after it).
FIELD_HINTS = {
    "text": f"Messages must be 1 to {MAX_TEXT} characters and not blank.",
    "name": f"Names must be 1 to {MAX_NAME} characters and not blank.",
    "active": "`active` must be true or false.",
}
# msgspec names the field as "... - at `$.text`" or "... field `text`".
_FIELD = re.compile(r"at `\$\.(\w+)|field `(\w+)`")


def explain(error: Exception) -> Error:
    """A validation or decoding failure as an ``error`` frame a person can read."""
    if isinstance(error, msgspec.ValidationError):
        match = _FIELD.search(str(error))
        field = (match.group(1) or match.group(2)) if match else None
        if field == "type":
            return Error(detail=f"Unknown message type ({error}).", field="type")
        hint = FIELD_HINTS.get(field or "", "The message does not fit the protocol.")
        return Error(detail=f"{hint} ({error})", field=field)
    if isinstance(error, fp.FrameError) and error.kind in FRAME_HINTS:
        # Said in words, with where when it helps; not the scanner's kind.
        field = "type" if error.kind in ("missing_tag", "tag_type") else None
        detail = FRAME_HINTS[error.kind].replace("{at}", str(error.position))
        return Error(detail=detail, field=field)
    if isinstance(error, msgspec.DecodeError) and "surrogate" in str(error):
        # Valid JSON holding half a character: usually an emoji cut in two.
        return Error(detail=HALF_CHARACTER)
    return Error(detail=f"Not a valid JSON message ({error}).")


HALF_CHARACTER = (
    "The message holds half of a character (an unpaired UTF-16 surrogate escape, "
    "e.g. an emoji cut in two); send whole characters."
)


#: What the scanner refused, by ``FrameError.kind`` (``{at}``: its byte offset).
#: ``too_large`` never gets here: that frame closes the connection (1009).
FRAME_HINTS = {
    "not_object": 'A message is a JSON object with a "type", e.g. {"type": "say", "text": "hi"}.',
    "missing_tag": 'The message has no "type".',
    "tag_type": 'The message\'s "type" must be a string.',
    "depth": "The message is nested too deeply.",
    "syntax": "The message is not valid JSON (at byte {at}).",
    "eof": "The message is not valid JSON: it ends too early.",
    "trailing": "The message has something after its JSON object (from byte {at}).",
    "utf8": "The message is not valid UTF-8 text (at byte {at}).",
    "escape": HALF_CHARACTER,
}


class ChatRoom(fp.WebSocketResource):
    """``/ws/chat/{room}?name=...``: a room where everyone sees what anyone says.

    On connect you join the room under the name you asked for (made unique
    in the room: ``alice-2`` when ``alice`` is taken; a guest name when
    blank) and are sent a ``welcome`` with your name, the members and the
    recent history; the others get ``joined``.
    """

    schema = ClientFrame
    sends: ClassVar[tuple[Any, ...]] = (ServerFrame,)
    max_frame_size = 16 * 1024

    def __init__(self, roster: Roster) -> None:
        super().__init__()
        self.roster = roster
        self.manager = roster.manager
        self.room = ""
        self.name = ""

    async def send(self, frame: Any) -> None:
        """To this connection only, through the manager (safe before accept)."""
        assert self.connection_id is not None
        await self.manager.send_to_connection(self.connection_id, frame)

    async def on_connect(self, req: falcon.asgi.Request, ws: Any, room: str) -> bool:
        cleaned = clean_room(room)
        if cleaned is None or self.connection_id is None:
            return False  # the client gets HTTP 403
        self.room = cleaned
        conn_id = self.connection_id
        wanted = clean_name(req.get_param("name") or "") or f"guest-{conn_id.rsplit('-', 1)[-1]}"
        await self.join_room(cleaned)
        self.name = self.roster.claim(cleaned, conn_id, wanted)
        await self.set_user(self.name)
        members = self.roster.members(cleaned)
        history = self.roster.history(cleaned)
        # Frames sent before the handshake completes wait in the outbox: the
        # welcome is the first frame the client reads.
        await self.send(Welcome(self.name, cleaned, members, history))
        if self.name != wanted:
            await self.send(Notice(f"{wanted!r} is taken in this room: you are {self.name}."))
        await self.broadcast_to_room(cleaned, Joined(self.name, members), exclude_self=True)
        return True

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        said = Said(self.name, payload.text.strip(), round(time.time(), 3))
        self.roster.record(self.room, said)
        await self.broadcast_to_room(self.room, said)

    @fp.handles_message("rename")
    async def rename(self, ws: Any, payload: Rename) -> None:
        new = clean_name(payload.name)
        if not new:
            await self.send(Error(FIELD_HINTS["name"], field="name"))
        elif new == self.name:
            return
        elif self.roster.taken(self.room, new, self.connection_id):
            await self.send(Error(f"{new!r} is already taken in this room.", field="name"))
        else:
            assert self.connection_id is not None
            old, self.name = self.name, self.roster.claim(self.room, self.connection_id, new)
            await self.set_user(self.name)
            members = self.roster.members(self.room)
            await self.broadcast_to_room(self.room, Renamed(old, self.name, members))

    @fp.handles_message("typing")
    async def typing(self, ws: Any, payload: Typing) -> None:
        state = TypingState(self.name, payload.active)
        await self.broadcast_to_room(self.room, state, exclude_self=True)

    async def on_validation_error(self, ws: Any, raw: str | bytes, error: Exception) -> None:
        await self.send(explain(error))

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        await self.send(Error("Unknown message type.", field="type"))

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        # Still registered here (removed after on_disconnect returns): leave
        # first so the farewell goes to the others only.
        if self.connection_id is None or not self.room:
            return
        await self.leave_room(self.room)
        self.roster.release(self.room, self.connection_id)
        members = self.roster.members(self.room)
        await self.broadcast_to_room(self.room, Left(self.name, members))


class Page:
    """The single page; its script and style are under ``/static``."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = PAGE


@fp.worker
async def presence(
    manager: fp.WebSocketConnectionManager, interval: float = PRESENCE_INTERVAL
) -> None:
    """Every few seconds, tell each room its size and the server's totals.

    ``publish_to_room`` queues and returns: a slow room never delays the next.
    """
    while True:
        rooms = manager.get_rooms_by_prefix("")
        online = manager.stats()["connections"]
        for room in rooms:
            frame = Presence(manager.room_size(room), online, len(rooms))
            await manager.publish_to_room(room, frame)
        await asyncio.sleep(interval)


def create_app(
    backend: fp.ConnectionBackend | None = None, *, presence_interval: float = PRESENCE_INTERVAL
) -> falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]:
    """The demo app; ``backend`` (default: in-process) shares rooms across
    processes when it is a ``RedisBackend``; ``presence_interval`` (seconds)
    paces the presence worker.
    """
    app = falcon.asgi.App()
    manager = fp.install(app, backend=backend)
    roster = Roster(fp.connection_manager(app))
    app.add_route("/", Page())
    app.add_static_route("/static", str(HERE / "static"))
    app.add_route("/asyncapi.json", DocumentResource(app, title="falcon-pachinko chat"))
    router = fp.WebSocketRouter(name="chat")
    router.add_route("/chat/{room}", ChatRoom, name="room", kwargs={"roster": roster})
    router.mount("/ws", app=app)
    workers = fp.WorkerController(restart=True)

    @fp.lifespan(app)
    async def run_workers() -> AsyncIterator[None]:
        await workers.start(presence, manager=manager, interval=presence_interval)
        yield
        await workers.stop()

    return app

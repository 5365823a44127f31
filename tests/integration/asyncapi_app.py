"""An app for the AsyncAPI CLI and wire tests: envelope handlers that reply
with declared ``sends`` types, and a converter-typed route."""

from __future__ import annotations

from typing import Any, ClassVar

import falcon.asgi
import msgspec

import falcon_pachinko as fp


class Say(msgspec.Struct):
    text: str


class Said(msgspec.Struct, tag="said"):
    text: str
    room: str


class Problem(msgspec.Struct, tag="problem"):
    detail: str


class Item(msgspec.Struct, tag="item"):
    item_id: int


class Room(fp.WebSocketResource):
    """Echo what is said, as a ``said`` frame; anything else is a ``problem``."""

    sends: ClassVar[tuple[Any, ...]] = (Said, Problem)

    async def on_connect(self, req: Any, ws: Any, room: str) -> bool:
        self.room = room
        return True

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        await ws.send_media(msgspec.to_builtins(Said(text=payload.text, room=self.room)))

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        await ws.send_media(msgspec.to_builtins(Problem(detail="unknown or invalid message")))


class Items(fp.WebSocketResource):
    sends: ClassVar[tuple[Any, ...]] = (Item,)

    async def on_connect(self, req: Any, ws: Any, item_id: int) -> bool:
        self.item_id = item_id
        return True

    async def on_get(self, ws: Any, payload: None) -> None:
        await ws.send_media(msgspec.to_builtins(Item(item_id=self.item_id)))


def create_app() -> falcon.asgi.App:
    app = falcon.asgi.App()
    router = fp.WebSocketRouter()
    router.add_route("/rooms/{room}", Room)
    router.add_route("/items/{item_id:int(min=1)}", Items)
    router.mount("/ws", app=app)
    return app


app = create_app()
not_an_app = 42


def broken_factory() -> falcon.asgi.App:
    raise RuntimeError("no database")

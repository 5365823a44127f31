"""The three servers the end-to-end load script compares, same protocol.

``/ws/echo``: each ``{"type": "echo", "payload": {...}}`` frame is decoded
into a Struct and re-encoded back to the sender. ``/ws/room``: every
connection joins one room; a ``{"type": "shout", ...}`` frame is broadcast
to all members. ``python -m benches.e2e_apps APP PORT [WS]`` serves one of
``package`` (this library; ``FALCON_PACHINKO_IMPL`` picks native or pure),
``falcon`` (what a careful user writes by hand with Falcon and msgspec) or
``asgi`` (a bare ASGI app, no framework) with uvicorn on 127.0.0.1
(``WS``: uvicorn's ``--ws`` implementation, default ``auto``).
"""

from __future__ import annotations

import sys
from typing import Any

import falcon
import falcon.asgi
import msgspec
import uvicorn

import falcon_pachinko as fp


class Text(msgspec.Struct):
    text: str


class Echo(msgspec.Struct, tag="echo"):
    payload: Text


class Shout(msgspec.Struct, tag="shout"):
    payload: Text


_encode = msgspec.json.Encoder().encode


# -- this library ------------------------------------------------------------


class EchoResource(fp.WebSocketResource):
    async def on_echo(self, ws: Any, payload: Text) -> None:
        await ws.send_text(_encode({"type": "echo", "payload": payload}).decode())


class RoomResource(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room("all")
        return True

    async def on_shout(self, ws: Any, payload: Text) -> None:
        await self.broadcast_to_room("all", {"type": "shout", "payload": payload})


def package_app() -> Any:
    app = falcon.asgi.App()
    fp.install(app)
    router = fp.WebSocketRouter()
    router.add_route("/echo", EchoResource)
    router.add_route("/room", RoomResource)
    router.mount("/ws", app=app)
    return app


# -- hand-written Falcon -------------------------------------------------------

_decode = msgspec.json.Decoder(Echo | Shout).decode


class FalconEcho:
    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        try:
            while True:
                msg = _decode(await ws.receive_text())
                await ws.send_text(_encode(msg).decode())
        except falcon.WebSocketDisconnected:
            return


class FalconRoom:
    def __init__(self) -> None:
        self.members: set[Any] = set()

    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        self.members.add(ws)
        try:
            while True:
                msg = _decode(await ws.receive_text())
                text = _encode(msg).decode()
                for member in list(self.members):
                    try:
                        await member.send_text(text)
                    except falcon.WebSocketDisconnected:
                        self.members.discard(member)
        except falcon.WebSocketDisconnected:
            return
        finally:
            self.members.discard(ws)


def falcon_app() -> Any:
    app = falcon.asgi.App()
    app.add_route("/ws/echo", FalconEcho())
    app.add_route("/ws/room", FalconRoom())
    return app


# -- bare ASGI -------------------------------------------------------------------


def asgi_app() -> Any:
    members: dict[int, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "websocket":
            return
        room = scope["path"] == "/ws/room"
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        if room:
            members[id(send)] = send
        try:
            while True:
                event = await receive()
                if event["type"] == "websocket.disconnect":
                    return
                msg = _decode(event.get("text") or event.get("bytes") or b"")
                out = {"type": "websocket.send", "text": _encode(msg).decode()}
                if not room:
                    await send(out)
                    continue
                for member in list(members.values()):
                    try:
                        await member(out)
                    except OSError:
                        members.pop(id(member), None)
        finally:
            members.pop(id(send), None)

    return app


APPS = {"package": package_app, "falcon": falcon_app, "asgi": asgi_app}


def main() -> None:
    name, port = sys.argv[1], int(sys.argv[2])
    ws = sys.argv[3] if len(sys.argv) > 3 else "auto"
    loop = sys.argv[4] if len(sys.argv) > 4 else "asyncio"
    uvicorn.run(APPS[name](), host="127.0.0.1", port=port, log_level="warning", ws=ws, loop=loop)


if __name__ == "__main__":
    main()

"""The chat demo serves its page and its rooms (what `make demo` runs)."""

from __future__ import annotations

import asyncio
import json

from examples.chat.app import create_app
from websockets.asyncio.client import connect

from ..support.server import running_server


async def test_demo_chat_round_trip() -> None:
    async with running_server(create_app()) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        page = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert b"200 OK" in page and b"falcon-pachinko chat" in page
        url = srv.ws_url + "/ws/chat/lobby"
        async with connect(url) as a, connect(url) as b:
            assert json.loads(await a.recv())["type"] in {"joined", "presence"}
            await b.send(json.dumps({"type": "say", "payload": {"text": "hello"}}))
            seen = []
            while not any(m.get("type") == "said" for m in seen):
                seen.append(json.loads(await asyncio.wait_for(a.recv(), 5)))
            said = next(m for m in seen if m["type"] == "said")
            assert said["text"] == "hello"

"""Frames through Falcon's real ASGI app, driven event by event."""

from __future__ import annotations

from typing import Any

import falcon.asgi

import falcon_pachinko as fp

from ..support.asgi import drive


class Counter(fp.WebSocketResource):
    seen: list[Any] = []

    async def on_item(self, ws: Any, payload: int) -> None:
        self.seen.append(payload)

    async def on_unhandled(self, ws: Any, message: str | bytes) -> None:
        self.seen.append(message)


def app() -> falcon.asgi.App:
    application = falcon.asgi.App()
    router = fp.WebSocketRouter()
    router.add_route("/c", Counter)
    router.mount("/ws", app=application)
    return application


async def test_frames_sent_just_before_the_client_closes_are_all_dispatched() -> None:
    """Falcon buffers a few frames ahead; none may be lost at disconnect."""
    Counter.seen = []
    frames = [f'{{"type": "item", "payload": {i}}}' for i in range(50)]
    sent = await drive(app(), "/ws/c", frames)
    assert Counter.seen == list(range(50))
    assert sent[0]["type"] == "websocket.accept"


async def test_binary_and_text_frames_arrive_as_sent() -> None:
    Counter.seen = []
    await drive(app(), "/ws/c", ['{"type": "item", "payload": 1}', "oops"])
    assert Counter.seen == [1, "oops"]

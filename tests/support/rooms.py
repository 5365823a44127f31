"""A resource the slow-client tests share: every connection joins ``all``."""

from __future__ import annotations

from typing import Any

import falcon_pachinko as fp


class Room(fp.WebSocketResource):
    """Joins room ``all``; records each close code ``on_disconnect`` got."""

    disconnects: list[int] = []

    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room("all")
        return True

    async def on_disconnect(self, ws: Any, close_code: int) -> None:
        type(self).disconnects.append(close_code)

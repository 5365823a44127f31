"""The newcomer's stalled browser tab, on the chat demo as served.

A client joins the demo's room and never reads while another chats (200
messages every 50 ms). The manager closes it as slow after ``send_timeout``
(5 s, the default). Before the fix the server logged the slow close but the
TCP connection stayed established with ~2.8 MB in the kernel's send queue
(and the asyncio transport still buffering), for as long as the client
stayed; now the connection is reset and nothing is logged at ERROR.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from examples.chat.app import create_app
from websockets.asyncio.client import connect

from ..support.raw import raw_handshake
from ..support.server import running_server
from .test_slow_close_abort import cut_off


async def test_a_stalled_tab_is_cut_off_after_its_slow_close(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    app = create_app()
    async with running_server(app) as srv:
        stalled = await raw_handshake(srv.port, "/ws/chat/stall?name=staller", rcvbuf=4096)
        async with connect(srv.ws_url + "/ws/chat/stall?name=talker", max_queue=None) as talker:

            def slow_closes() -> int:
                return sum("closing slow connection" in r.getMessage() for r in caplog.records)

            async with asyncio.timeout(60):
                while slow_closes() == 0:
                    for _ in range(200):
                        await talker.send(json.dumps({"type": "say", "text": "x" * 480}))
                    await asyncio.sleep(0.05)
            # The stalled tab's connection ends (reset) within a few seconds,
            # while it still reads nothing.
            assert await cut_off(stalled)
        stalled.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert any("reset the connection" in r.getMessage() for r in caplog.records)

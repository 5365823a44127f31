"""The sender's view of a room with a stalled and a churning crowd (DESIGN §6.1).

A chat handler broadcasts each message to its room with the resource helper.
One member never reads (a frozen tab), others join and leave all the time
(clean closes and TCP resets). The sender must never notice: it is never
disconnected, it gets every echo of its own messages promptly, and a normal
reader gets everything. The stalled member's fate is the policy's, counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import falcon.asgi
import msgspec
import pytest
from examples.chat.app import create_app as create_demo_app
from websockets.asyncio.client import ClientConnection, connect

import falcon_pachinko as fp

from ..support.raw import raw_handshake, reset
from ..support.server import listening_socket, running_server

MESSAGES = 300
SIZE = 16 * 1024
INTERVAL = 0.005  # a steady 200 messages/s
CHURNERS = 8
CHURN_ROUNDS = 100


class Say(msgspec.Struct):
    seq: int
    text: str


class Chat(fp.WebSocketResource):
    async def on_connect(self, req: Any, ws: Any) -> bool:
        await self.join_room("room")
        return True

    @fp.handles_message("say")
    async def say(self, ws: Any, payload: Say) -> None:
        said = {"type": "said", "seq": payload.seq, "text": payload.text}
        await self.broadcast_to_room("room", said)


class Scenario:
    """The test app (a minimal chat) or the demo app, and how to talk to it."""

    def __init__(self, name: str, **options: Any) -> None:
        self.name = name
        if name == "demo":
            app = create_demo_app()
            self.manager = fp.connection_manager(app)
            for key, value in options.items():
                setattr(self.manager, key, value)  # send_timeout (outbox is the hub's)
            self.path, self.room = "/ws/chat/lobby", "lobby"
        else:
            app = falcon.asgi.App()
            self.manager = fp.install(app, **options)
            router = fp.WebSocketRouter()
            router.add_route("/chat", Chat)
            router.mount("/ws", app=app)
            self.path, self.room = "/ws/chat", "room"
        self.app = app

    def message(self, seq: int) -> str:
        if self.name == "demo":  # flat tagged frames; the demo refuses text over 500 characters
            return json.dumps({"type": "say", "text": f"{seq:06d}" + "x" * 400})
        return json.dumps({"type": "say", "payload": {"seq": seq, "text": "x" * SIZE}})

    def echo(self, raw: str | bytes) -> int | None:
        message = json.loads(raw)
        if message.get("type") != "said":
            return None
        return int(message["text"][:6]) if self.name == "demo" else int(message["seq"])


async def read_all(
    scenario: Scenario, ws: ClientConnection, count: int, seen: dict[int, float]
) -> None:
    """Read ``count`` echoes, recording when each sequence number arrived."""
    while len(seen) < count:
        seq = scenario.echo(await ws.recv())
        if seq is not None:
            seen.setdefault(seq, time.monotonic())


async def talk(scenario: Scenario, ws: ClientConnection, sent_at: dict[int, float]) -> None:
    """Send MESSAGES chat messages at a steady rate."""
    for seq in range(MESSAGES):
        sent_at[seq] = time.monotonic()
        await ws.send(scenario.message(seq))
        await asyncio.sleep(INTERVAL)


async def churn(port: int, url: str, rounds: int, index: int, stop: asyncio.Event) -> int:
    """Join and leave the room ``rounds`` times: clean closes and TCP resets."""
    done = 0
    for n in range(rounds):
        if stop.is_set():
            break
        if (n + index) % 2:
            async with connect(url, max_size=None) as ws:
                await asyncio.sleep(0.001)
                await ws.close()
        else:
            reset(await raw_handshake(port, url.split(str(port), 1)[1]))
        done += 1
    return done


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


CASES = [
    ("chat", "close", "stalled"),
    ("chat", "drop_oldest", "stalled"),
    ("chat", "close", "stalled+churn"),
    ("chat", "drop_oldest", "stalled+churn"),
    ("demo", "default", "stalled+churn"),
]


@pytest.mark.parametrize(("app_name", "overflow", "crowd"), CASES)
async def test_sender_never_notices_a_stalled_or_churning_peer(
    app_name: str, overflow: str, crowd: str
) -> None:
    if overflow == "default":
        scenario = Scenario(app_name, send_timeout=1.0)
    else:
        scenario = Scenario(app_name, outbox_size=16, overflow=overflow, send_timeout=1.0)
    manager, room = scenario.manager, scenario.room
    sock = listening_socket(sndbuf=16_384)
    async with running_server(scenario.app, sock=sock) as srv:
        url = srv.ws_url + scenario.path
        stalled = await raw_handshake(srv.port, scenario.path, rcvbuf=4096)
        sender = await connect(url, max_size=None)
        reader = await connect(url, max_size=None)
        async with asyncio.timeout(10):
            while manager.room_size(room) < 3:
                await asyncio.sleep(0.01)
        sent_at: dict[int, float] = {}
        echoes: dict[int, float] = {}
        heard: dict[int, float] = {}
        stop = asyncio.Event()
        churners = [
            asyncio.create_task(churn(srv.port, url, CHURN_ROUNDS, i, stop))
            for i in range(CHURNERS if crowd == "stalled+churn" else 0)
        ]
        async with asyncio.timeout(120):
            await asyncio.gather(
                talk(scenario, sender, sent_at),
                read_all(scenario, sender, MESSAGES, echoes),
                read_all(scenario, reader, MESSAGES, heard),
            )
            rounds = await asyncio.gather(*churners)
        stop.set()
        # The sender was never disconnected and got every echo, promptly.
        assert sender.close_code is None
        assert sorted(echoes) == list(range(MESSAGES))
        latencies = [echoes[seq] - sent_at[seq] for seq in range(MESSAGES)]
        assert p99(latencies) < 0.5, f"echo latency p99 {p99(latencies):.3f}s"
        assert sorted(heard) == list(range(MESSAGES))  # a normal reader got all
        assert all(r == CHURN_ROUNDS for r in rounds)
        # The stalled peer ended closed or dropped by policy, and counted.
        stats = manager.stats()
        if overflow == "close":
            assert stats["slow_closes"] >= 1
        else:
            assert stats["dropped_frames"] > 0 or stats["slow_closes"] >= 1
        # Nothing leaked: only the sender and the reader (and perhaps the
        # stalled peer, if its close is still under way) remain.
        async with asyncio.timeout(10):
            while manager.room_size(room) > 3:
                await asyncio.sleep(0.01)
        assert manager.room_size(room) in (2, 3)
        await sender.close()
        await reader.close()
        stalled.close()

"""RedisBackend across real processes: three uvicorn nodes sharing one real
redis-server (DESIGN §5.8). Runs under whichever implementation the suite
runs (the nodes inherit ``FALCON_PACHINKO_IMPL``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

from ..support.redis_server import NodeProcess, RedisServer

TTL = 1.5  # the nodes' presence TTL (see redis_node.create_app)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def nodes(redis_server: RedisServer) -> Iterator[list[NodeProcess]]:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    started: list[NodeProcess] = []
    try:
        for _ in range(3):
            started.append(NodeProcess(redis_server.url, prefix))
        yield started
    finally:
        for node in started:
            node.kill()


async def send(ws: ClientConnection, tag: str, **payload: Any) -> None:
    await ws.send(json.dumps({"type": tag, "payload": payload}))


async def recv(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


async def recv_type(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of ``kind``, skipping others (bounded)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await recv(ws, timeout)
            if msg.get("type") == kind:
                return msg


async def ask(ws: ClientConnection, **query: Any) -> dict[str, Any]:
    await send(ws, "ask", **query)
    return await recv_type(ws, "presence")


async def until(ws: ClientConnection, check: Any, timeout: float, **query: Any) -> dict[str, Any]:
    """Ask ``ws``'s node for presence until ``check(answer)`` holds (bounded)."""
    async with asyncio.timeout(timeout):
        while True:
            answer = await ask(ws, **query)
            if check(answer):
                return answer
            await asyncio.sleep(0.05)


async def assert_silent(*sockets: ClientConnection, wait: float = 0.3) -> None:
    """Nothing more arrives on ``sockets`` (a duplicate would)."""
    await asyncio.sleep(wait)
    for ws in sockets:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.05)


@pytest.fixture
async def clients(nodes: list[NodeProcess]) -> AsyncIterator[dict[str, ClientConnection]]:
    a, b, c = nodes
    urls = {
        "a1": a.url("r", "u1"),
        "b1": b.url("r", "u2"),
        "c1": c.url("r", "u1"),
        "b2": b.url("other"),
    }
    opened: dict[str, ClientConnection] = {}
    try:
        for name, url in urls.items():
            opened[name] = await connect(url, open_timeout=5)
        for name in ("a1", "b1", "c1"):
            await until(opened[name], lambda p: p["size"] == 3, 5)
        yield opened
    finally:
        for ws in opened.values():
            await ws.close()


async def test_room_broadcast_reaches_every_node_exactly_once(
    clients: dict[str, ClientConnection],
) -> None:
    a1, b1, c1, b2 = clients["a1"], clients["b1"], clients["c1"], clients["b2"]
    await send(a1, "say", text="hello")
    for ws in (a1, b1, c1):
        assert (await recv(ws))["text"] == "hello"
    await assert_silent(a1, b1, c1, b2)

    await send(a1, "say", text="not to me", exclude_self=True)
    for ws in (b1, c1):
        assert (await recv(ws))["text"] == "not to me"
    await assert_silent(a1, b1, c1, b2)


async def test_user_connection_and_all_targets_cross_nodes(
    clients: dict[str, ClientConnection],
) -> None:
    a1, b1, c1, b2 = clients["a1"], clients["b1"], clients["c1"], clients["b2"]
    presence = await ask(b1, user="u1")
    assert len(presence["user"]) == 2  # u1 is on A and on C

    await send(b1, "dm", user="u1", text="psst")
    for ws in (a1, c1):
        assert await recv(ws) == {"type": "dm", "text": "psst"}
    await assert_silent(a1, b1, c1, b2)

    await send(b1, "whoami")
    b1_id = (await recv_type(b1, "me"))["id"]
    await send(c1, "direct", conn=b1_id, text="just you")
    assert await recv(b1) == {"type": "direct", "text": "just you"}
    await send(c1, "direct", conn="nobody-1", text="?")
    assert (await recv(c1))["type"] == "not_found"

    await send(c1, "all", text="everyone")
    for ws in (a1, b1, c1, b2):
        assert await recv(ws) == {"type": "all", "text": "everyone"}
    await assert_silent(a1, b1, c1, b2)


async def test_presence_agrees_and_a_killed_node_leaves_within_the_ttl(
    nodes: list[NodeProcess], clients: dict[str, ClientConnection]
) -> None:
    a1, b1, c1 = clients["a1"], clients["b1"], clients["c1"]
    views = [await ask(ws) for ws in (a1, b1, c1)]
    assert len({tuple(v["members"]) for v in views}) == 1
    assert {v["bus"]["nodes"] for v in views} == {3}

    nodes[2].kill()  # SIGKILL: no goodbye, its presence must expire
    killed = time.monotonic()
    await until(a1, lambda p: p["size"] == 2, TTL + 3)
    await until(b1, lambda p: p["size"] == 2, 1)
    assert time.monotonic() - killed <= TTL + 1.0


async def test_graceful_shutdown_removes_presence_at_once(
    nodes: list[NodeProcess], clients: dict[str, ClientConnection]
) -> None:
    nodes[1].terminate()  # SIGTERM: lifespan shutdown
    stopped = time.monotonic()
    await until(clients["a1"], lambda p: p["size"] == 2 and p["bus"]["nodes"] == 2, TTL)
    assert time.monotonic() - stopped < TTL


async def test_redis_restart_resumes_broadcasts_and_local_delivery_continues(
    redis_server: RedisServer, clients: dict[str, ClientConnection], nodes: list[NodeProcess]
) -> None:
    a1, b1 = clients["a1"], clients["b1"]
    async with connect(nodes[0].url("r"), open_timeout=5) as a2:
        await until(a1, lambda p: p["size"] == 4, 5)
        redis_server.stop()
        await send(a1, "say", text="during outage")
        assert (await recv(a2))["text"] == "during outage"  # local delivery unaffected
        assert (await recv(a1))["text"] == "during outage"
        redis_server.start()
        async with asyncio.timeout(15):
            while True:
                await send(a1, "say", text="after restart")
                assert (await recv(a2))["text"] == "after restart"
                try:
                    msg = await recv(b1, 0.5)
                except TimeoutError:
                    continue
                if msg.get("text") == "after restart":
                    break
        bus = (await until(a1, lambda p: p["bus"]["connected"], 5))["bus"]
        assert bus["outages"] >= 1 and bus["reconnects"] >= 1
        await until(b1, lambda p: p["size"] == 4, 5)


async def test_hostile_bus_frames_are_counted_not_fatal(
    redis_server: RedisServer, clients: dict[str, ClientConnection]
) -> None:
    a1, b1 = clients["a1"], clients["b1"]
    prefix = (await ask(a1))["bus"]  # the node is connected; find the channel below
    assert prefix["connected"]
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        channels = await client.pubsub_channels("*:bus")
        assert len(channels) == 1
        for junk in (b"", b"PB", b"PB\x01\x07\x00", b"\xff" * 64, b"PB\x01\x01\x00\x00\x00\x00"):
            await client.publish(channels[0], junk)
    finally:
        await client.aclose()
    answer = await until(a1, lambda p: p["bus"]["rejected_frames"] >= 5, 5)
    assert answer["bus"]["rejected_frames"] == 5
    await send(a1, "say", text="still fine")
    assert (await recv(b1))["text"] == "still fine"


async def test_state_proxy_is_readable_from_other_nodes_and_removed_with_the_connection(
    nodes: list[NodeProcess], clients: dict[str, ClientConnection]
) -> None:
    b1 = clients["b1"]
    async with connect(nodes[0].url("s"), open_timeout=5) as a2:
        await send(a2, "whoami")
        a2_id = (await recv_type(a2, "me"))["id"]
        await send(a2, "remember", name="alice", score=3)

        async def recall() -> dict[str, Any]:
            await send(b1, "recall", conn=a2_id, text="")
            return (await recv_type(b1, "state"))["state"]  # type: ignore[no-any-return]

        async with asyncio.timeout(5):
            while (state := await recall()) != {"name": "alice", "score": 3}:
                await asyncio.sleep(0.05)
    async with asyncio.timeout(5):
        while state:
            await asyncio.sleep(0.05)
            state = await recall()

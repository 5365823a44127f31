"""FastSubscriber: RESP pub/sub replies parsed in batches, split reads,
bounds and malformed input, against a scripted 127.0.0.1 server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from falcon_pachinko.backends.subscriber import FastSubscriber

SUBSCRIBED = b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"


def message(data: bytes, channel: bytes = b"a") -> bytes:
    return b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(channel),
        channel,
        len(data),
        data,
    )


class Scripted:
    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.got = bytearray()
        self.auth_reply = b"+OK\r\n"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        while data := await reader.read(65536):
            self.got += data
            if b"AUTH" in data:
                writer.write(self.auth_reply)
            if b"SUBSCRIBE" in data:
                writer.write(SUBSCRIBED)


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, str]]:
    script = Scripted()
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield script, f"redis://127.0.0.1:{port}/0"
    finally:
        server.close()


async def frames_of(sub: FastSubscriber, count: int) -> list[bytes]:
    got: list[bytes] = []
    async with asyncio.timeout(2):
        while len(got) < count and not sub.closed:
            await sub.wake.wait()
            sub.wake.clear()
            got += sub.take()
    return got


async def test_messages_split_anywhere_arrive_whole(scripted: tuple[Scripted, str]) -> None:
    script, url = scripted
    sub = await FastSubscriber.open(url, ["a", "b"], 2, 1 << 20, 100)
    assert sub is not None and sub.subscribed == 2
    assert b"$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n" in script.got
    assert script.writer is not None
    stream = message(b"one\r\n$3") + message(b"") + message(b"\x00" * 300, b"b")
    for i in range(0, len(stream), 7):  # split across many reads
        script.writer.write(stream[i : i + 7])
        await script.writer.drain()
        await asyncio.sleep(0)
    assert await frames_of(sub, 3) == [b"one\r\n$3", b"", b"\x00" * 300]
    sub.close()


@pytest.mark.parametrize(
    "junk",
    [
        b"%%%\r\n",
        b"$abc\r\n",  # a bulk length that is not a number
        b":12a\r\n",
        b"+OK\r\n",  # a status reply where only messages can come
        b"*1\r\n*1\r\n:1\r\n",  # nested arrays
        b"x" * 100,  # not RESP at all
    ],
)
async def test_malformed_replies_close_the_connection(
    scripted: tuple[Scripted, str], junk: bytes
) -> None:
    script, url = scripted
    sub = await FastSubscriber.open(url, ["a", "b"], 2, 1 << 20, 100)
    assert sub is not None and script.writer is not None
    script.writer.write(message(b"ok") + junk)
    assert await frames_of(sub, 2) == [b"ok"]
    assert sub.closed and sub.error is not None and "malformed" in sub.error


async def test_a_reply_over_the_frame_limit_closes_before_it_is_buffered(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    limit = 1 << 16
    sub = await FastSubscriber.open(url, ["a", "b"], 2, limit, 100)
    assert sub is not None and script.writer is not None
    # Claims 1 GB and keeps sending: the reader gives up past the limit.
    script.writer.write(b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$999999999\r\n")
    async with asyncio.timeout(2):
        for _ in range(64):
            if sub.closed:
                break
            script.writer.write(b"x" * 8192)
            await script.writer.drain()
            await asyncio.sleep(0.01)
    assert sub.closed and sub.error is not None and "frame limit" in sub.error
    assert sub.take() == []


async def test_a_bulk_message_of_the_limit_is_accepted(scripted: tuple[Scripted, str]) -> None:
    script, url = scripted
    limit = 1 << 16
    sub = await FastSubscriber.open(url, ["a", "b"], 2, limit, 100)
    assert sub is not None and script.writer is not None
    big = b"y" * limit
    for i in range(0, len(message(big)), 4096):
        script.writer.write(message(big)[i : i + 4096])
        await script.writer.drain()
    assert await frames_of(sub, 1) == [big]
    assert not sub.closed
    sub.close()


async def test_buffer_is_bounded(scripted: tuple[Scripted, str]) -> None:
    script, url = scripted
    sub = await FastSubscriber.open(url, ["a", "b"], 2, 1 << 20, 3)
    assert sub is not None and script.writer is not None
    script.writer.write(b"".join(message(b"%d" % i) for i in range(5)))
    async with asyncio.timeout(2):
        while sub.dropped < 2:
            await sub.wake.wait()
            sub.wake.clear()
    assert sub.take() == [b"2", b"3", b"4"]
    sub.close()


async def test_auth_is_sent_and_a_refusal_fails_the_open(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    url = url.replace("redis://", "redis://user:p%40ss@")
    sub = await FastSubscriber.open(url, ["a", "b"], 2, 1 << 20, 10)
    assert sub is not None and sub.subscribed == 2
    assert script.got.startswith(b"*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$4\r\np@ss\r\n")
    sub.close()
    script.auth_reply = b"-WRONGPASS invalid username-password pair\r\n"
    with pytest.raises(ConnectionError, match="AUTH"):
        await FastSubscriber.open(url, ["a", "b"], 2, 1 << 20, 10)


async def test_other_schemes_use_redis_py() -> None:
    assert await FastSubscriber.open("rediss://127.0.0.1:1/0", ["a"], 1, 10, 10) is None

"""FastPublisher: PUBLISH written synchronously, acknowledged by reply lines,
bounded, against a scripted 127.0.0.1 server standing in for Redis.
"""

from __future__ import annotations

import asyncio

from falcon_pachinko.backends.publisher import FastPublisher


class Scripted:
    """Accepts one connection, records what it receives, replies on demand."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connected.set()
        while data := await reader.read(65536):
            self.received += data
            if data.startswith(b"*3\r\n$4\r\nAUTH") or data.startswith(b"*2\r\n$4\r\nAUTH"):
                writer.write(b"+OK\r\n")


async def test_publish_is_written_at_once_and_acknowledged_by_reply_lines() -> None:
    scripted = Scripted()
    server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        pub = await FastPublisher.open(f"redis://u:p%40ss@127.0.0.1:{port}/0", 3, 2)
        assert pub is not None and pub.connected
        assert bytes(scripted.received).endswith(b"$4\r\nAUTH\r\n$1\r\nu\r\n$4\r\np@ss\r\n")
        scripted.received.clear()
        assert pub.publish(b"ch", b"a\r\nb")
        assert pub.publish(b"ch", b"")
        assert pub.publish(b"ch", b"x")
        assert not pub.publish(b"ch", b"y")  # bounded: 3 unacknowledged
        async with asyncio.timeout(2):
            while len(scripted.received) < 3 * 20:
                await asyncio.sleep(0.01)
        assert bytes(scripted.received).startswith(
            b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$4\r\na\r\nb\r\n"
        )
        assert scripted.writer is not None
        scripted.writer.write(b":1\r")  # a reply split across reads
        await asyncio.sleep(0.05)
        scripted.writer.write(b"\n:0\r\n")
        async with asyncio.timeout(2):
            while pub.acked < 2:
                await asyncio.sleep(0.01)
        assert (pub.acked, pub.outstanding) == (2, 1)
        assert pub.publish(b"ch", b"z")
        assert pub.close() == 2  # never acknowledged
        assert not pub.connected and not pub.publish(b"ch", b"late")
    finally:
        server.close()
        await server.wait_closed()


async def test_other_schemes_use_redis_py() -> None:
    assert await FastPublisher.open("rediss://127.0.0.1:1/0", 10, 1) is None
    assert await FastPublisher.open("unix:///tmp/redis.sock", 10, 1) is None


class StubTransport:
    """Records writes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.limits: dict[str, int] = {}

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def set_write_buffer_limits(self, high: int) -> None:
        self.limits["high"] = high

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        return None


async def test_an_idle_connection_writes_at_once_and_a_busy_one_coalesces() -> None:
    pub = FastPublisher(100)
    transport = StubTransport()
    pub.connection_made(transport)
    assert pub.publish(b"ch", b"1")
    # Written from the call itself: a lone broadcast does not wait for the loop.
    assert transport.writes == [b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\n1\r\n"]
    assert pub.publish(b"ch", b"2") and pub.publish(b"ch", b"3")
    assert len(transport.writes) == 1  # unacknowledged frame in flight: buffered
    await asyncio.sleep(0)
    assert transport.writes[1:] == [
        b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\n2\r\n*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\n3\r\n"
    ]
    pub.data_received(b":1\r\n:1\r\n:1\r\n")
    assert (pub.acked, pub.outstanding) == (3, 0)
    assert pub.publish(b"ch", b"4") and len(transport.writes) == 3  # idle again


async def test_bytes_waiting_for_the_socket_are_bounded() -> None:
    pub = FastPublisher(100, max_bytes=100)
    transport = StubTransport()
    pub.connection_made(transport)
    assert transport.limits == {"high": 100}  # the transport's buffer: flow control
    pub.pause_writing()  # Redis reads slowly: the transport is over its limit
    assert not pub.publish(b"ch", b"x" * 20)
    assert pub.outstanding == 0 and transport.writes == []
    pub.resume_writing()
    assert pub.publish(b"ch", b"x" * 20)  # written at once (idle)
    assert pub.publish(b"ch", b"x" * 40)  # coalesced: 61 bytes waiting
    assert not pub.publish(b"ch", b"x" * 20)  # would pass 100
    assert pub.outstanding == 2

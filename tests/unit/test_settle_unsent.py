"""The end of a connection waits for its peer only while the peer reads.

``_peers.settle_unsent`` (run when a connection ends) keeps a connection
whose peer still takes bytes until they are taken, and resets one whose
peer took none for the stall limit: a client that stopped reading cannot
hold a closing connection, or a server's graceful shutdown, open.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from falcon_pachinko._peers import settle_unsent


class Transport:
    """What ``server_transport`` looks for; ``pending`` drains by ``rate``
    bytes per check (0: a peer that stopped reading)."""

    def __init__(self, pending: int, rate: int) -> None:
        self.pending, self.rate = pending, rate
        self.aborted = False
        self.options: list[Any] = []

    def get_write_buffer_size(self) -> int:
        self.pending = max(0, self.pending - self.rate)
        return self.pending

    def get_extra_info(self, name: str) -> Any:
        return None  # no socket: only the transport's own buffer counts

    def abort(self) -> None:
        self.aborted = True


def socket_on(transport: Transport) -> Any:
    class Protocol:
        def __init__(self) -> None:
            self.transport = transport

        async def send(self, event: Any) -> None:
            pass

    return SimpleNamespace(_asgi_send=Protocol().send)


async def test_a_peer_that_reads_nothing_is_reset_after_the_stall(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    transport = Transport(pending=1_000_000, rate=0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(5):
        await settle_unsent(socket_on(transport), "c-1", stall=0.3)
    assert transport.aborted
    assert loop.time() - started >= 0.3
    assert any("c-1 as it ended" in r.getMessage() for r in caplog.records)


async def test_a_peer_that_keeps_reading_is_waited_for() -> None:
    transport = Transport(pending=1_500, rate=100)  # drains in ~15 checks (~1.5 s)
    async with asyncio.timeout(10):
        await settle_unsent(socket_on(transport), "c-2", stall=0.3)
    assert not transport.aborted and transport.pending == 0


async def test_even_a_reading_peer_is_bounded() -> None:
    transport = Transport(pending=10**9, rate=1)  # progress every check, forever
    async with asyncio.timeout(10):
        await settle_unsent(socket_on(transport), "c-3", stall=0.05)
    assert transport.aborted  # after _SETTLE_STALLS stall limits in all


async def test_nothing_unsent_or_no_transport_costs_one_check() -> None:
    drained = Transport(pending=0, rate=0)
    await settle_unsent(socket_on(drained), "c-4", stall=10)
    assert not drained.aborted
    await settle_unsent(object(), "c-5", stall=10)  # not a uvicorn socket: nothing

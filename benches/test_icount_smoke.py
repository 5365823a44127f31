"""Smoke tests of the instruction-count harness (no valgrind needed).

``benches/uvicorn_inproc.py`` must drive every echo server through uvicorn's
own protocol and get every answer back; ``benches/icount.py``'s arithmetic
must turn callgrind's two totals into instructions per round trip.
"""

from __future__ import annotations

import pytest

import falcon_pachinko as fp

from . import icount
from .uvicorn_inproc import ping_pong

# The library's row that matches the implementation this run imported.
SERVERS = ["falcon", "asgi", "native" if fp.IMPLEMENTATION == "native" else "pure"]


@pytest.mark.parametrize("server", SERVERS)
async def test_every_connection_is_answered_in_every_round(server: str) -> None:
    # ping_pong raises (bounded wait) if a handshake fails or an answer is missing
    seconds = await ping_pong(server, connections=3, rounds=5)
    assert 0 < seconds < 1


def test_two_totals_become_instructions_per_round_trip() -> None:
    extra = (icount.LONG - icount.SHORT) * icount.CONNECTIONS
    assert icount.per_round_trip(1_000_000, 1_000_000 + 90_000 * extra) == 90_000
    assert icount.collected("==7== Events    : Ir\n==7== Collected : 123456789\n") == 123456789
    with pytest.raises(RuntimeError, match="no total"):
        icount.collected("valgrind: command not found")

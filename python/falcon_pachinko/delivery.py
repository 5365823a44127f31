"""What a delivery call reports, and which send failures are the recipient's.

DESIGN §6.1: a recipient's network trouble (it disconnected, stalled, or
its outbox overflowed) is that recipient's outcome, applied by policy and
counted; it never raises in the code that called a broadcast. Only errors
that are not network conditions (a custom socket object raising
``RuntimeError``, a bug) propagate to the caller.
"""

from __future__ import annotations

import types
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from falcon.errors import WebSocketDisconnected

__all__ = ["DeliveryResult", "is_network_condition", "resume"]

# NOTE: uvicorn raises a plain RuntimeError (not the OSError subclass the
# ASGI spec asks for) when a send arrives after its side of the connection
# has closed, e.g. a frame racing the peer's disconnect. That is a network
# condition, recognised by the message uvicorn has used since 0.2x.
_AFTER_CLOSE = "after sending 'websocket.close'"


def is_network_condition(exc: BaseException) -> bool:
    """True when ``exc`` says the peer or its transport went away.

    ``OSError`` covers ``ConnectionError`` (and so Falcon's
    ``WebSocketDisconnected`` and the library's ``SlowConsumerError``),
    ``TimeoutError`` and uvicorn's ``ClientDisconnected``.
    """
    if isinstance(exc, (OSError, WebSocketDisconnected)):
        return True
    return isinstance(exc, RuntimeError) and _AFTER_CLOSE in str(exc)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one broadcast (or direct send) did, per recipient.

    Attributes
    ----------
    recipients:
        Connections addressed (after ``exclude``).
    sent:
        Frames handed to the server during the call.
    queued:
        Frames waiting in a busy connection's outbox (its writer sends them).
    dropped:
        Recipients whose frame the overflow policy dropped, or that were
        already closing.
    closed:
        Recipients closed by this call: the overflow policy said so, or the
        peer turned out to be gone.
    pending:
        With ``timeout=``: queued frames still not handed over when the wait
        ended (0 without a timeout: nothing was waited for).
    """

    recipients: int = 0
    sent: int = 0
    queued: int = 0
    dropped: int = 0
    closed: int = 0
    pending: int = 0


EMPTY = DeliveryResult()


@types.coroutine
def resume(it: Any, yielded: Any) -> Generator[Any, Any, None]:
    """Continue a send coroutine that already yielded ``yielded`` once.

    The fan-out ran the coroutine's first step itself; this hands the rest
    to the writer task without restarting it.
    """
    while True:
        try:
            value = yield yielded
        except BaseException as exc:  # noqa: BLE001 - forwarded into the coroutine
            try:
                yielded = it.throw(exc)
            except StopIteration:
                return
        else:
            try:
                yielded = it.send(value)
            except StopIteration:
                return

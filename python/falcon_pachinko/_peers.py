"""Per-connection delivery: outboxes drained by writers, and what happens to a
peer whose network fails (DESIGN §6.1).

The manager mixes this in. A connection whose send would block gets a writer
task that finishes the send in flight and drains the connection's outbox in
the hub, each send bounded by ``send_timeout``; a stall closes the peer as
slow. A failed send is classified (network condition or not), counted and
logged once; the peer is marked closing in the hub so later frames are
dropped and counted rather than retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import sys
from typing import TYPE_CHECKING, Any

from ._receive import mark_closed, server_transport
from .delivery import is_network_condition, resume
from .exceptions import SlowConsumerError

try:  # the kernel's unsent bytes of a socket (Linux, macOS ttys only)
    import fcntl
    import termios

    _OUTQ: int | None = termios.TIOCOUTQ
except (ImportError, AttributeError):  # pragma: no cover - Windows
    _OUTQ = None

#: How long a peer's close may take before it is given up on.
_CLOSE_GRACE = 1.0
#: The manager's default ``send_timeout`` (its signature keeps the literal so
#: the API reference shows it; tests/unit/test_manager.py holds them equal):
#: the end-of-connection bound for connections served without a manager.
SEND_TIMEOUT = 5.0

if TYPE_CHECKING:
    from ._pure import FanoutHub

__all__ = ["PeerDelivery"]

# The manager's logger: operators configure one name for delivery events.
log = logging.getLogger("falcon_pachinko.manager")


class _Gone(ConnectionError):
    """The connection went away; waiting for delivery to it is moot, not an error."""


class _Peer:
    """Delivery state of one local connection (touched only off the fast path)."""

    __slots__ = (
        "closed_with",
        "conn_id",
        "dead",
        "send",
        "unhandled",
        "waiters",
        "writer",
        "ws",
    )

    def __init__(self, conn_id: str, ws: Any, send: Any) -> None:
        self.conn_id = conn_id
        # PERF: created on the first refused frame: most connections never
        # have one, and a dict per peer is garbage-collector work per peer.
        self.unhandled: dict[str, int] | None = None
        self.ws = ws
        self.send = send
        self.writer: asyncio.Task[None] | None = None
        self.waiters: dict[int, asyncio.Future[None]] = {}
        self.dead: BaseException | None = None
        self.closed_with: int | None = None


class PeerDelivery:
    """Writers, waiters and failure handling for the manager's peers."""

    hub: FanoutHub
    send_timeout: float
    slow_close_code: int
    delivery_timeout: float
    failed_sends: int
    lost_peers: int
    slow_closes: int
    _peers: dict[str, _Peer]
    _background: set[asyncio.Task[None]]

    async def _wait(
        self, waiters: list[asyncio.Future[None]], timeout: float, errors: list[Exception]
    ) -> int:
        """Wait (bounded) for queued frames; how many are still pending.

        Failures that are not network conditions are added to ``errors``.
        """
        if not waiters:
            return 0
        bound = min(max(timeout, 0.0), self.delivery_timeout)
        if bound == 0:
            done: set[asyncio.Future[None]] = {f for f in waiters if f.done()}
        else:
            done, _ = await asyncio.wait(waiters, timeout=bound)
        pending = 0
        for fut in waiters:
            if fut not in done:
                pending += 1
                continue
            exc = fut.exception()
            if isinstance(exc, Exception) and not is_network_condition(exc):
                errors.append(exc)
        return pending

    def _waiter(self, peer: _Peer, event: Any) -> asyncio.Future[None]:
        """Future resolved when ``event`` has been handed to the server for ``peer``."""
        fut = peer.waiters.get(id(event))
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            peer.waiters[id(event)] = fut
        return fut

    def _start_writer(self, peer: _Peer, it: Any, yielded: Any, event: Any) -> None:
        if peer.writer is None:
            peer.writer = asyncio.get_running_loop().create_task(
                self._writer(peer, it, yielded, event), name=f"pachinko-writer-{peer.conn_id}"
            )

    async def _writer(self, peer: _Peer, it: Any, yielded: Any, event: Any) -> None:
        """Finish the send in flight, then drain the outbox; each send bounded."""
        hub, conn_id = self.hub, peer.conn_id
        try:
            if it is not None:
                async with asyncio.timeout(self.send_timeout):
                    await resume(it, yielded)
                fut = peer.waiters.pop(id(event), None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            while True:
                if self._gone(peer):
                    # The peer went away while frames waited: writing them to
                    # a dead transport only makes the server log warnings.
                    if conn_id in hub:
                        hub.mark_closing(conn_id)  # the rest is dropped, counted
                    self._settle(peer, _Gone(f"connection {conn_id!r} closed"))
                    return
                event = hub.next_frame(conn_id)
                if event is None:
                    break  # the connection is idle again
                async with asyncio.timeout(self.send_timeout):
                    await peer.send(event)
                fut = peer.waiters.pop(id(event), None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
        except TimeoutError:
            peer.writer = None
            await self._close_slow(peer, f"send stalled for more than {self.send_timeout}s")
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported to waiters, logged
            self._failed(peer, conn_id, exc)
        finally:
            if peer.writer is asyncio.current_task():
                peer.writer = None
        # Outbox empty: any waiter left had its frame dropped by the policy.
        self._settle(peer, SlowConsumerError(conn_id, "frame dropped by the overflow policy"))

    def _settle(self, peer: _Peer, exc: BaseException) -> None:
        waiters, peer.waiters = peer.waiters, {}
        for fut in waiters.values():
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: not every waiter is awaited

    def _gone(self, peer: _Peer) -> bool:
        """A failure on a connection that is already closing is not an error."""
        return (
            peer.closed_with is not None
            or bool(getattr(peer.ws, "closed", False))
            or peer.conn_id not in self._peers
        )

    def _failed(self, peer: _Peer | None, conn_id: str, exc: Exception) -> bool:
        """A send raised: count, log once, stop delivering; True if the caller
        must see it (not a network condition).
        """
        self.failed_sends += 1
        condition = is_network_condition(exc)
        network = peer is None or condition or self._gone(peer)
        if condition or peer is None:
            self.lost_peers += 1
            log.info("connection %s went away during a send: %r", conn_id, exc)
        elif network:
            # Closed already (by the server, say: uvicorn closes with 1007 on
            # invalid UTF-8) when a queued frame went out; the server's
            # complaint about that send is not a bug of the caller's.
            self.lost_peers += 1
            log.info(
                "connection %s was already closing when a queued frame was sent "
                "(the server refused it: %r)",
                conn_id,
                exc,
            )
        else:
            log.warning("send to connection %s failed: %r", conn_id, exc)
        if peer is not None:
            peer.dead = exc
            if conn_id in self.hub:
                self.hub.mark_closing(conn_id)  # once: later frames are dropped
            self._settle(peer, exc)
            self._spawn(self._shutdown_peer(peer, 1011))
        return not network

    async def _close_slow(self, peer: _Peer, reason: str) -> None:
        if peer.closed_with is not None:
            return  # already being closed: count and log it once
        self.slow_closes += 1
        error = SlowConsumerError(peer.conn_id, reason)
        peer.dead = error
        log.warning(
            "closing slow connection %s (%s): %s", peer.conn_id, self.slow_close_code, reason
        )
        self._settle(peer, error)
        await self._shutdown_peer(peer, self.slow_close_code)

    async def _shutdown_peer(self, peer: _Peer, code: int) -> None:
        """Close a peer's socket (bounded) and stop delivering to it."""
        if peer.writer is not None and peer.writer is not asyncio.current_task():
            peer.writer.cancel()
        if peer.conn_id in self.hub:
            self.hub.mark_closing(peer.conn_id)  # later frames: dropped and counted
        peer.closed_with = peer.closed_with or code
        transport = server_transport(peer.ws) if code == self.slow_close_code else None
        behind = unsent(transport) if transport is not None else 0
        if transport is not None and behind > 0:
            # A peer this far behind never reads its close frame in time:
            # whoever closes the socket (this close, the server after the
            # app returns) resets it, freeing the bytes it never took.
            reset_on_close(transport)
        try:
            async with asyncio.timeout(_CLOSE_GRACE):
                if not getattr(peer.ws, "closed", False):
                    await peer.ws.close(code)
        except Exception:
            log.debug("closing %s did not complete", peer.conn_id, exc_info=True)
        if transport is not None and behind > 0:
            if unsent(transport) > 0:
                # Still behind: the close frame waits behind what it never
                # read (or could not even be queued), and a closing
                # transport waits for its buffer to drain: cut it now.
                transport.abort()
                mark_closed(peer.ws, code)
            log.info("reset the connection of %s: %d bytes it never read", peer.conn_id, behind)

    def _spawn(self, coro: Any) -> None:
        """Run a close in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


#: How often a connection that ended is checked for bytes its peer took.
_SETTLE_POLL = 0.1
#: A peer that keeps taking bytes still gets at most this many stall limits.
_SETTLE_STALLS = 10


async def settle_unsent(ws: Any, conn_id: str | None, stall: float) -> None:
    """Bound how long bytes a peer does not read keep its connection open.

    When a connection ends (the server's shutdown, a close by the app or
    the library) its close frame may wait behind bytes the peer never read,
    and a closing asyncio transport waits for its buffer to drain, for as
    long as the peer keeps not reading: uvicorn's graceful shutdown then
    waits with it ("Waiting for connections to close", found by an outside
    view of the chat demo). So, on a server whose transport is known
    (uvicorn), the end of a connection waits while the peer takes bytes and
    resets the connection once it took none for ``stall`` seconds (the
    manager's ``send_timeout``), or after ``_SETTLE_STALLS`` of them in all.
    A peer that read everything costs one check.
    """
    transport = server_transport(ws)
    if transport is None:
        return
    behind = unsent(transport)
    if not behind:
        return
    loop = asyncio.get_running_loop()
    start = progress = loop.time()
    while True:
        await asyncio.sleep(_SETTLE_POLL)
        left = unsent(transport)
        if not left:
            return
        now = loop.time()
        if left < behind:
            behind, progress = left, now
        if now - progress >= stall or now - start >= stall * _SETTLE_STALLS:
            break
    reset_on_close(transport)
    transport.abort()
    log.info(
        "reset the connection of %s as it ended: %d bytes it never read in %.1fs",
        conn_id,
        left,
        loop.time() - start,
    )


def unsent(transport: asyncio.WriteTransport) -> int:
    """Bytes not yet taken by the peer: the transport's buffer and the kernel's.

    A peer that stops reading fills the kernel's send queue first (Linux
    grows it to megabytes), so the transport's own buffer alone can be empty
    while the close frame waits behind megabytes. ``TIOCOUTQ`` (Linux:
    bytes not yet acknowledged) counts the kernel's part where the platform
    has it.
    """
    pending = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is None or _OUTQ is None:
        return pending
    fd = sock.fileno()
    if fd < 0:
        return pending  # the socket is closed: the kernel holds nothing of ours
    try:
        queued = fcntl.ioctl(fd, _OUTQ, b"\0\0\0\0")
    except OSError:
        return pending
    return pending + int.from_bytes(queued, sys.byteorder)


def reset_on_close(transport: asyncio.BaseTransport) -> None:
    """Make the socket's close a reset, discarding what the peer never took.

    ``SO_LINGER`` with a zero timeout: the close (ours or the server's, after
    the app returns) sends a reset and frees the kernel's send queue at
    once; a plain close would leave the kernel retrying the unsent bytes to
    a peer that does not read them, for minutes.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

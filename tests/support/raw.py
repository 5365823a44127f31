"""Hand-rolled WebSocket clients for hostile behaviour: never read, reset."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct


async def send_upgrade(port: int, path: str, *, rcvbuf: int | None = None) -> socket.socket:
    """Send a WebSocket upgrade request and return at once (no response read)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    return sock


async def raw_handshake(port: int, path: str, *, rcvbuf: int | None = None) -> socket.socket:
    """Open a WebSocket by hand and return the socket after the 101 headers.

    With a small ``rcvbuf`` and no further reads, the TCP receive window
    fills: the server's sends to this client stall.
    """
    sock = await send_upgrade(port, path, rcvbuf=rcvbuf)
    loop = asyncio.get_running_loop()
    response = b""
    async with asyncio.timeout(5):
        while b"\r\n\r\n" not in response:
            response += await loop.sock_recv(sock, 1)  # the headers only
    assert b" 101 " in response, response
    return sock


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST instead of a close handshake (a vanished client)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def dispatcher_sizes(resource_cls: type) -> dict[str, int]:
    """Sizes of a resource class's dispatch table and every dict it holds:
    what a hostile client must not be able to grow.
    """
    d = resource_cls._dispatcher  # type: ignore[attr-defined]
    sizes = {"table": len(d.table), "entries": len(d.entries)}
    for name in type(d).__slots__:
        value = getattr(d, name, None)
        if isinstance(value, dict):
            sizes[name] = len(value)
    return sizes

"""End-to-end load: uvicorn in one process, real clients in this one.

``python -m benches.load_e2e [--json PATH] [--rounds R] [--seconds S] [--room N]``

For each server of ``benches/e2e_apps.py`` (this library with the native
and the pure implementation, the hand-written Falcon app, a bare ASGI app),
in one run: echo latency p50/p99 with one client; round trips/s and the
server's CPU per round trip with 50 concurrent clients; broadcast
deliveries/s to a room of N clients (and the server's CPU per delivery);
idle server memory per connection (RSS growth over those N idle
connections). Loopback only; every phase is bounded in count and time, and
each server process is stopped by its pid.

The servers are measured in turn, ``--rounds`` times (alternating, a fresh
server process each round), because on a small shared machine one
measurement swings with everything else running: the JSON keeps each
figure's best value (highest throughput, lowest cost) under ``"best"``
and its lowest and highest value over the rounds under ``"spread"``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
SERVERS = {  # label -> (app, FALCON_PACHINKO_IMPL)
    "falcon": ("falcon", "native"),
    "asgi": ("asgi", "native"),
    "native": ("package", "native"),
    "pure": ("package", "pure"),
}
ECHO = json.dumps({"type": "echo", "payload": {"text": "hello there"}})
SHOUT = json.dumps({"type": "shout", "payload": {"text": "hello room"}})
PHASE_LIMIT = 120.0  # seconds, any one phase


# ``--compression``: what the clients offer. Browsers offer permessage-deflate
# and uvicorn accepts it by default; ``none`` measures the servers without
# zlib's fixed cost per frame (the same for every server).
COMPRESSION: dict[str, str | None] = {"deflate": "deflate", "none": None}
_client: dict[str, Any] = {"compression": "deflate"}


def client(url: str, **options: Any) -> Any:
    """A client connection with the run's compression setting."""
    return connect(url, **_client, **options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def log(text: str) -> None:
    print(text, flush=True)


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(30):
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                async with client(url + "/ws/echo") as ws:
                    await ws.send(ECHO)
                    await ws.recv()
                return
            except OSError:
                await asyncio.sleep(0.1)


async def echo_latency(url: str, count: int) -> dict[str, float]:
    async with client(url + "/ws/echo") as ws:
        for _ in range(200):  # warm-up
            await ws.send(ECHO)
            await ws.recv()
        times = []
        for _ in range(count):
            t = time.perf_counter()
            await ws.send(ECHO)
            await ws.recv()
            times.append(time.perf_counter() - t)
    times.sort()
    return {
        "echo_p50_us": statistics.median(times) * 1e6,
        "echo_p99_us": times[int(len(times) * 0.99) - 1] * 1e6,
    }


async def round_trips(url: str, pid: int, clients: int, seconds: float) -> dict[str, float]:
    conns = [await client(url + "/ws/echo") for _ in range(clients)]
    counts = [0] * clients
    stop = time.monotonic() + seconds

    async def worker(i: int, ws: Any) -> None:
        while time.monotonic() < stop:
            await ws.send(ECHO)
            await ws.recv()
            counts[i] += 1

    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    async with asyncio.timeout(seconds + PHASE_LIMIT):
        await asyncio.gather(*(worker(i, ws) for i, ws in enumerate(conns)))
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    for ws in conns:
        await ws.close()
    total = sum(counts)
    return {"rtt_per_s": total / elapsed, "cpu_us_per_rtt": cpu / total * 1e6}


async def broadcast(url: str, pid: int, members: int, shouts: int) -> dict[str, float]:
    rss0 = rss_bytes(pid)
    conns = []
    async with asyncio.timeout(PHASE_LIMIT):
        for _ in range(members):
            conns.append(await client(url + "/ws/room", max_queue=None))
    await asyncio.sleep(1.0)  # let the server settle before measuring memory
    per_conn = (rss_bytes(pid) - rss0) / members
    received = [0] * members

    async def drain(i: int, ws: Any) -> None:
        async for _ in ws:
            received[i] += 1

    readers = [asyncio.create_task(drain(i, ws)) for i, ws in enumerate(conns)]
    # one shout, all delivered: every member is registered and reading
    await conns[0].send(SHOUT)
    async with asyncio.timeout(PHASE_LIMIT):
        while min(received) < 1:
            await asyncio.sleep(0.005)
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    for _ in range(shouts):
        await conns[0].send(SHOUT)
    async with asyncio.timeout(PHASE_LIMIT):
        while min(received) < shouts + 1:
            await asyncio.sleep(0.002)
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    for ws in conns:
        await ws.close()
    for task in readers:
        task.cancel()
    deliveries = members * shouts
    return {
        "deliveries_per_s": deliveries / elapsed,
        "cpu_us_per_delivery": cpu / deliveries * 1e6,
        "idle_kib_per_conn": per_conn / 1024,
    }


# ``--malloc pinned`` (the default): every server runs with glibc's mmap
# threshold fixed above asyncio's 256 KiB receive buffer. Otherwise whether
# each ``sock.recv(256 KiB)`` is served from the heap or by mmap + mremap +
# munmap (three syscalls and page faults per received frame, about a fifth of
# a server's CPU on small frames) depends on where the heap's top happened to
# be after start-up: it differed between the four servers and between
# compression settings, at random, and swamped the differences measured
# (docs/guide/deploying.md, "The memory allocator"). ``default`` leaves glibc alone.
MALLOC: dict[str, dict[str, str]] = {
    "pinned": {"MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_TRIM_THRESHOLD_": "4194304"},
    "default": {},
}


def start_server(
    app: str, impl: str, port: int, ws: str, malloc: str = "pinned"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FALCON_PACHINKO_IMPL": impl, "PYTHONPATH": str(ROOT)}
    for name in MALLOC["pinned"]:
        env.pop(name, None)
    env |= MALLOC[malloc]
    return subprocess.Popen(
        [sys.executable, "-m", "benches.e2e_apps", app, str(port), ws], cwd=ROOT, env=env
    )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server this script started (by its own handle), bounded."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


async def measure(label: str, args: argparse.Namespace) -> dict[str, float]:
    app, impl = SERVERS[label]
    port = free_port()
    proc = start_server(app, impl, port, args.ws, args.malloc)
    url = f"ws://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        log(f"  {label}: echo latency, 1 client ...")
        result = await echo_latency(url, args.echo)
        log(f"  {label}: round trips, {args.clients} clients, {args.seconds:g} s ...")
        result |= await round_trips(url, proc.pid, args.clients, args.seconds)
        log(f"  {label}: broadcast to {args.room} clients ...")
        result |= await broadcast(url, proc.pid, args.room, args.shouts)
    finally:
        stop_server(proc)
    return result


# Figures where higher is better; every other figure is a cost.
HIGHER_IS_BETTER = frozenset({"rtt_per_s", "deliveries_per_s"})


def best_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per figure, the best value over the rounds."""
    pick = {k: (max if k in HIGHER_IS_BETTER else min) for k in runs[0]}
    return {k: pick[k](run[k] for run in runs) for k in runs[0]}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rounds: dict[str, list[dict[str, float]]] = {label: [] for label in args.servers}
    for n in range(1, args.rounds + 1):
        for label in args.servers:
            log(f"load_e2e: {label} (round {n}/{args.rounds})")
            result = await measure(label, args)
            rounds[label].append(result)
            log(f"  {label}: " + ", ".join(f"{k}={v:,.1f}" for k, v in result.items()))
    return {
        "rounds": args.rounds,
        "compression": args.compression,
        "malloc": MALLOC[args.malloc],
        "best": {label: best_of(runs) for label, runs in rounds.items()},
        "spread": {
            label: {k: [min(r[k] for r in runs), max(r[k] for r in runs)] for k in runs[0]}
            for label, runs in rounds.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--echo", type=int, default=2000, help="round trips for p50/p99")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; best kept")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--room", type=int, default=500)
    parser.add_argument("--shouts", type=int, default=40)
    parser.add_argument("--ws", default="auto", help="uvicorn's WebSocket implementation")
    parser.add_argument("--servers", nargs="+", choices=list(SERVERS), default=list(SERVERS))
    parser.add_argument("--compression", choices=list(COMPRESSION), default="deflate")
    parser.add_argument(
        "--malloc", choices=list(MALLOC), default="pinned", help="glibc allocator settings"
    )
    args = parser.parse_args()
    _client["compression"] = COMPRESSION[args.compression]
    results = asyncio.run(run(args))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

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

Server labels: ``falcon`` = the hand-written Falcon app, ``asgi`` = a bare
ASGI app, ``native``/``pure`` = this library with either implementation.
CPU figures come from ``/proc`` in clock ticks (10 ms): with tiny phases
(the smoke test's sizes) they, and the per-connection memory, are noise.

The clients are ``benches/wsclient.py``'s lean protocol (handshake and
compression negotiation by ``websockets``' sans-I/O client, the data path
inline), on uvloop where installed: the ``websockets`` asyncio client
spent as much CPU per round trip as the servers it measured, on the same
two cores. ``client_cpu_us_per_rtt`` reports what the load generator
itself spent. ``--loop`` is uvicorn's own option with uvicorn's own default,
``auto``: uvloop where it is installed (``uvicorn[standard]`` installs it,
with the ``websockets`` package uvicorn needs for WebSockets at all), else
asyncio's loop; ``--loop asyncio`` measures asyncio's loop (``make bench``
runs both). The JSON names the loop that ran (``server_loop``).

The servers are measured in turn, ``--rounds`` times (alternating, a fresh
server process each round), because on a small shared machine one
measurement swings with everything else running: the JSON keeps each
figure's best value (highest throughput, lowest cost) under ``"best"``
and its lowest and highest value over the rounds under ``"spread"``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .wsclient import LeanClient, lean_connect

ROOT = Path(__file__).resolve().parents[1]
LABELS = {
    "falcon": "hand-written Falcon app",
    "asgi": "bare ASGI app",
    "native": "this library, native",
    "pure": "this library, pure",
}
SERVERS = {  # label -> (app, FALCON_PACHINKO_IMPL)
    "falcon": ("falcon", "native"),
    "asgi": ("asgi", "native"),
    "native": ("package", "native"),
    "pure": ("package", "pure"),
}
ECHO = json.dumps({"type": "echo", "payload": {"text": "hello there"}})
SHOUT = json.dumps({"type": "shout", "payload": {"text": "hello room"}})
PHASE_LIMIT = 120.0  # seconds, any one phase
CLOSE_LIMIT = 10.0  # seconds, closing a phase's connections


# ``--compression``: what the clients offer. Browsers offer permessage-deflate
# and uvicorn accepts it by default; ``none`` measures the servers without
# zlib's fixed cost per frame (the same for every server).
COMPRESSION: dict[str, str | None] = {"deflate": "deflate", "none": None}
_client: dict[str, Any] = {"compression": "deflate"}


async def lean_client(url: str) -> LeanClient:
    """A client connection with the run's compression setting (``wsclient``:
    the websockets client cost as much CPU per message as the servers)."""
    return await lean_connect(url, _client["compression"])


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
                ws = await lean_client(url + "/ws/echo")
            except OSError:
                await asyncio.sleep(0.1)
                continue
            answered = asyncio.get_running_loop().create_future()
            ws.on_message = answered.set_result
            ws.send_text(ECHO)
            await answered
            await close_all([ws])
            return


async def echo_latency(url: str, count: int) -> dict[str, float]:
    ws = await lean_client(url + "/ws/echo")
    loop = asyncio.get_running_loop()
    answered: list[asyncio.Future[None]] = []
    ws.on_message = lambda _text: answered[-1].set_result(None)
    times = []
    try:
        async with asyncio.timeout(PHASE_LIMIT):
            for n in range(200 + count):  # 200 warm-up round trips first
                answered.append(loop.create_future())
                t = time.perf_counter()
                ws.send_text(ECHO)
                await answered[-1]
                if n >= 200:
                    times.append(time.perf_counter() - t)
                answered.clear()
    finally:
        await close_all([ws])
    times.sort()
    return {
        "echo_p50_us": statistics.median(times) * 1e6,
        "echo_p99_us": times[int(len(times) * 0.99) - 1] * 1e6,
    }


async def round_trips(url: str, pid: int, clients: int, seconds: float) -> dict[str, float]:
    """Each client sends its next message as soon as the answer arrives, until
    ``seconds`` are up (the callback answers inline: no task per client)."""
    conns = [await lean_client(url + "/ws/echo") for _ in range(clients)]
    counts = [0] * clients
    finished = asyncio.Event()
    left = [clients]
    stop = time.monotonic() + seconds

    def answerer(i: int, ws: LeanClient) -> Callable[[str], None]:
        def on_message(_text: str) -> None:
            counts[i] += 1
            if time.monotonic() < stop:
                ws.send_text(ECHO)
                return
            left[0] -= 1
            if not left[0]:
                finished.set()

        return on_message

    for i, ws in enumerate(conns):
        ws.on_message = answerer(i, ws)
    cpu0, own0, t0 = cpu_seconds(pid), time.process_time(), time.perf_counter()
    try:
        for ws in conns:
            ws.send_text(ECHO)
        async with asyncio.timeout(seconds + PHASE_LIMIT):
            await finished.wait()
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        own = time.process_time() - own0
    finally:
        await close_all(conns)
    total = sum(counts)
    return {
        "rtt_per_s": total / elapsed,
        "cpu_us_per_rtt": cpu / total * 1e6,
        "client_cpu_us_per_rtt": own / total * 1e6,
    }


async def broadcast(url: str, pid: int, members: int, shouts: int) -> dict[str, float]:
    rss0 = rss_bytes(pid)
    conns: list[LeanClient] = []
    try:
        async with asyncio.timeout(PHASE_LIMIT):
            for _ in range(members):
                conns.append(await lean_client(url + "/ws/room"))
        await asyncio.sleep(1.0)  # let the server settle before measuring memory
        per_conn = (rss_bytes(pid) - rss0) / members
        received = [0] * members
        reached = asyncio.Event()
        target = [1, members]  # messages each member must get, members short of it

        def counter(i: int) -> Callable[[str], None]:
            def on_message(_text: str) -> None:
                received[i] += 1
                if received[i] == target[0]:
                    target[1] -= 1
                    if not target[1]:
                        reached.set()

            return on_message

        for i, ws in enumerate(conns):
            ws.on_message = counter(i)
        # one shout, all delivered: every member is registered and reading
        conns[0].send_text(SHOUT)
        async with asyncio.timeout(PHASE_LIMIT):
            await reached.wait()
        reached.clear()
        target[:] = [shouts + 1, members]
        cpu0, own0, t0 = cpu_seconds(pid), time.process_time(), time.perf_counter()
        for _ in range(shouts):
            conns[0].send_text(SHOUT)
        async with asyncio.timeout(PHASE_LIMIT):
            await reached.wait()
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        own = time.process_time() - own0
    finally:
        await close_all(conns)
    deliveries = members * shouts
    return {
        "deliveries_per_s": deliveries / elapsed,
        "cpu_us_per_delivery": cpu / deliveries * 1e6,
        "client_cpu_us_per_delivery": own / deliveries * 1e6,
        "idle_kib_per_conn": per_conn / 1024,
    }


async def close_all(conns: list[LeanClient]) -> None:
    """Close handshakes for every client, bounded; the stragglers are aborted."""
    for ws in conns:
        ws.close()
    try:
        async with asyncio.timeout(CLOSE_LIMIT):
            await asyncio.gather(*(ws.closed for ws in conns))
    except TimeoutError:
        for ws in conns:
            ws.abort()


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
    app: str, impl: str, port: int, ws: str, malloc: str = "pinned", *, loop: str = "asyncio"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FALCON_PACHINKO_IMPL": impl, "PYTHONPATH": str(ROOT)}
    for name in MALLOC["pinned"]:
        env.pop(name, None)
    env |= MALLOC[malloc]
    return subprocess.Popen(
        [sys.executable, "-m", "benches.e2e_apps", app, str(port), ws, loop], cwd=ROOT, env=env
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
    proc = start_server(app, impl, port, args.ws, args.malloc, loop=args.loop)
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
        "server_loop": args.loop,
        "best": {label: best_of(runs) for label, runs in rounds.items()},
        "spread": {
            label: {k: [min(r[k] for r in runs), max(r[k] for r in runs)] for k in runs[0]}
            for label, runs in rounds.items()
        },
    }


def print_best(results: dict[str, Any]) -> None:
    """Each server's best figures, one line each (``--json`` keeps the spread)."""
    names = ", ".join(f"{k} = {v}" for k, v in LABELS.items())
    log(f"\nbest of {results['rounds']} round(s) ({names}):")
    for label, figures in results["best"].items():
        log(f"  {label}: " + ", ".join(f"{k}={v:,.1f}" for k, v in figures.items()))


def server_loop(choice: str) -> str:
    """The loop the servers run: ``auto`` resolved as uvicorn resolves it
    (uvloop when importable), so the JSON and the report name what ran."""
    if choice != "auto":
        return choice
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def client_loop() -> Callable[[], asyncio.AbstractEventLoop]:
    """The clients' event loop: uvloop where installed (``make venv`` installs
    it), which takes about a fifth off the load generator's CPU per round
    trip; else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="also write best and spread here")
    parser.add_argument("--echo", type=int, default=2000, help="round trips for p50/p99")
    parser.add_argument("--clients", type=int, default=50, help="clients of the round-trip phase")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; best kept")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the round-trip phase")
    parser.add_argument("--room", type=int, default=500, help="members of the broadcast phase")
    parser.add_argument("--shouts", type=int, default=100, help="broadcasts in that phase")
    parser.add_argument("--ws", default="auto", help="uvicorn's WebSocket implementation")
    parser.add_argument(
        "--loop", default="auto", choices=["auto", "asyncio", "uvloop"],
        help="uvicorn's event loop (default: uvicorn's own, auto = uvloop where installed)",
    )  # fmt: skip
    parser.add_argument("--servers", nargs="+", choices=list(SERVERS), default=list(SERVERS))
    parser.add_argument(
        "--compression", choices=list(COMPRESSION), default="deflate",
        help="what the clients offer (browsers offer deflate)",
    )  # fmt: skip
    parser.add_argument(
        "--malloc", choices=list(MALLOC), default="pinned", help="glibc allocator settings"
    )
    args = parser.parse_args()
    args.loop = server_loop(args.loop)
    _client["compression"] = COMPRESSION[args.compression]
    with asyncio.Runner(loop_factory=client_loop()) as runner:
        results = runner.run(run(args))
    print_best(results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

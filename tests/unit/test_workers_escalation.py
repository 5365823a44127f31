"""Where a worker failure may stop the process (DESIGN §6.4).

Inside a running ASGI lifespan a failure asks the server to shut down (SIGTERM
to the process); anywhere else (this very test runner) it is logged at once
and re-raised by ``stop()``, and the process is never signalled. Every test
installs its own SIGTERM handler, so a wrong signal is recorded, not fatal.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import falcon.asgi
import pytest

import falcon_pachinko as fp
from falcon_pachinko.lifespan import lifespan_running


@contextmanager
def sigterm_recorder() -> Iterator[list[int]]:
    """Record SIGTERMs delivered while the block runs instead of dying of them."""
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


@fp.worker
async def boom() -> None:
    raise ValueError("worker failed on purpose")


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def test_failure_outside_a_lifespan_is_logged_reraised_and_never_signals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    controller = fp.WorkerController()  # on_failure="shutdown", the default
    with sigterm_recorder() as received, caplog.at_level(logging.ERROR, "falcon_pachinko"):
        await controller.start(boom)
        await until(lambda: bool(controller.failures))
        # Logged at once, with the traceback, before anyone calls stop().
        failed = [r for r in caplog.records if r.getMessage() == "worker boom failed"]
        assert failed and failed[0].exc_info is not None
        with pytest.raises(ValueError, match="on purpose"):
            await controller.stop()
        await asyncio.sleep(0)  # a pending Python-level handler would have run by now
    assert received == []
    assert not controller.running


@asynccontextmanager
async def lifespan_of(app: Any) -> AsyncIterator[list[dict[str, Any]]]:
    """Run ``app``'s ASGI lifespan in its own task, as a server does: startup on
    entry, shutdown on exit (bounded). Yields the events the app sent.
    """
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.3"}}
    task = asyncio.create_task(app(scope, inbox.get, send))
    try:
        inbox.put_nowait({"type": "lifespan.startup"})
        await until(lambda: bool(sent))
        assert sent[0]["type"] == "lifespan.startup.complete", sent
        yield sent
    finally:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        async with asyncio.timeout(5):
            await task


async def test_failure_inside_a_lifespan_decorator_signals_the_process() -> None:
    app = falcon.asgi.App()
    controller = fp.WorkerController()

    @fp.lifespan(app)
    async def workers() -> AsyncIterator[None]:
        await controller.start(boom)
        yield
        await controller.stop()

    with sigterm_recorder() as received:
        async with lifespan_of(app) as sent:
            await until(lambda: received == [signal.SIGTERM])
    # The failure still surfaces at shutdown, from stop().
    assert sent[1]["type"] == "lifespan.shutdown.failed"
    assert "worker failed on purpose" in sent[1]["message"]
    assert not lifespan_running()  # the mark stayed in the lifespan's task


class StartsWorkers:
    """A user's own startup middleware: marked by ``install``'s, which runs first."""

    def __init__(self, controller: fp.WorkerController) -> None:
        self.controller = controller

    async def process_startup(self, scope: Any, event: Any) -> None:
        await self.controller.start(boom)

    async def process_shutdown(self, scope: Any, event: Any) -> None:
        await self.controller.stop()


async def test_install_middleware_marks_the_lifespan_too() -> None:
    app = falcon.asgi.App()
    fp.install(app)
    controller = fp.WorkerController()
    app.add_middleware(StartsWorkers(controller))
    with sigterm_recorder() as received:
        async with lifespan_of(app) as sent:
            await until(lambda: received == [signal.SIGTERM])
    assert sent[1]["type"] == "lifespan.shutdown.failed"


async def test_a_controller_started_after_a_lifespan_ran_elsewhere_never_signals() -> None:
    app = falcon.asgi.App()
    fp.install(app)
    with sigterm_recorder() as received:
        async with lifespan_of(app) as sent:
            pass
        assert [e["type"] for e in sent] == [
            "lifespan.startup.complete",
            "lifespan.shutdown.complete",
        ]
        controller = fp.WorkerController()
        await controller.start(boom)
        await until(lambda: bool(controller.failures))
        with pytest.raises(ValueError, match="on purpose"):
            await controller.stop()
        await asyncio.sleep(0)
    assert received == []

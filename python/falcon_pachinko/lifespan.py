"""``@falcon_pachinko.lifespan(app)``: startup/shutdown code as one async generator.

Falcon 4 has no ``@app.lifespan``; it has startup/shutdown middleware
(``process_startup`` / ``process_shutdown``). This decorator runs the
generator up to its ``yield`` at startup and resumes it at shutdown, so
resources opened before ``yield`` are closed after it. It may be used more
than once per app; each generator is its own middleware.

Its startup also marks the running lifespan (:func:`mark_running`), so a
``WorkerController`` started from lifespan code knows a server owns the
process and may ask it to shut down when a worker fails (DESIGN §6.4).

    @falcon_pachinko.lifespan(app)
    async def workers() -> AsyncIterator[None]:
        controller = WorkerController()
        await controller.start(heartbeat, manager=app.ws_connection_manager)
        yield
        await controller.stop()
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast

__all__ = ["lifespan", "lifespan_running", "mark_running"]

# AsyncIterator, not AsyncGenerator: `async def f() -> AsyncIterator[None]` is
# how most code annotates such a function, and it must type-check (§6.5). The
# decorator still checks at run time that it is an async generator function.
G = TypeVar("G", bound=Callable[..., AsyncIterator[Any]])

# NOTE: a ContextVar, not a module flag. Falcon awaits every middleware's
# process_startup/process_shutdown in turn inside the one task the server runs
# the ASGI lifespan in, so a value set there is seen by later middleware and by
# lifespan code, and by nothing else: not by other tests in the same process,
# nor by a script that never served the app. (Tasks created while it is set,
# such as the workers themselves, inherit a copy, which is harmless.)
_RUNNING: ContextVar[bool] = ContextVar("falcon_pachinko_lifespan_running", default=False)


def mark_running() -> None:
    """Record that the current task is running an ASGI lifespan (startup or later).

    Called by the ``lifespan`` middleware and by ``install``'s middleware from
    ``process_startup``; the mark lasts for the rest of that task.
    """
    _RUNNING.set(True)


def lifespan_running() -> bool:
    """Whether the calling code runs inside an ASGI lifespan (see :func:`mark_running`)."""
    return _RUNNING.get()


class _LifespanMiddleware:
    def __init__(self, fn: Callable[..., AsyncIterator[Any]], app: Any) -> None:
        self.fn = fn
        self.app = app
        self.gen: AsyncGenerator[Any, None] | None = None

    async def process_startup(self, scope: Any, event: Any) -> None:
        mark_running()
        params = inspect.signature(self.fn).parameters
        self.gen = cast(AsyncGenerator[Any, None], self.fn(self.app) if params else self.fn())
        try:
            await self.gen.__anext__()
        except StopAsyncIteration:
            raise RuntimeError(f"lifespan {self.fn.__qualname__!r} did not yield") from None

    async def process_shutdown(self, scope: Any, event: Any) -> None:
        gen, self.gen = self.gen, None
        if gen is None:
            return
        try:
            await gen.__anext__()
        except StopAsyncIteration:
            return
        await gen.aclose()
        raise RuntimeError(f"lifespan {self.fn.__qualname__!r} yielded more than once")


def lifespan(app: Any) -> Callable[[G], G]:
    """Register an async generator function as startup (before ``yield``) and
    shutdown (after it) code of ``app``. It may take the app as its argument.
    """

    def decorate(fn: G) -> G:
        target: Any = fn  # checked without narrowing the declared type
        if not inspect.isasyncgenfunction(target):
            raise TypeError("@lifespan(app) decorates an async generator function (with yield)")
        app.add_middleware(_LifespanMiddleware(fn, app))
        return fn

    return decorate

"""``@falcon_pachinko.lifespan(app)``: startup/shutdown code as one async generator.

Falcon 4 has no ``@app.lifespan``; it has startup/shutdown middleware
(``process_startup`` / ``process_shutdown``). This decorator runs the
generator up to its ``yield`` at startup and resumes it at shutdown, so
resources opened before ``yield`` are closed after it. It may be used more
than once per app; each generator is its own middleware.

    @falcon_pachinko.lifespan(app)
    async def workers():
        controller = WorkerController()
        await controller.start(heartbeat, manager=app.ws_connection_manager)
        yield
        await controller.stop()
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

__all__ = ["lifespan"]

G = TypeVar("G", bound=Callable[..., AsyncGenerator[Any, None]])


class _LifespanMiddleware:
    def __init__(self, fn: Callable[..., AsyncGenerator[Any, None]], app: Any) -> None:
        self.fn = fn
        self.app = app
        self.gen: AsyncGenerator[Any, None] | None = None

    async def process_startup(self, scope: Any, event: Any) -> None:
        params = inspect.signature(self.fn).parameters
        self.gen = self.fn(self.app) if params else self.fn()
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
        if not inspect.isasyncgenfunction(fn):
            raise TypeError("@lifespan(app) decorates an async generator function (with yield)")
        app.add_middleware(_LifespanMiddleware(fn, app))
        return fn

    return decorate

"""Background workers bound to the ASGI lifespan, that never fail silently.

``WorkerController.start(*workers, **context)`` runs each worker as a task,
passing the context keywords it declares. An unhandled worker exception is
logged at once with its traceback and ``stop()`` re-raises it. What else
happens depends on where the controller was started (DESIGN §6.4):

* inside a running ASGI lifespan (the ``lifespan`` decorator's or
  ``install``'s middleware marks it), by default (``on_failure="shutdown"``)
  the process is asked to shut down gracefully: SIGTERM to itself, which
  uvicorn, gunicorn and hypercorn treat as a graceful stop (uvicorn re-raises
  it after shutdown, so the process exits non-zero);
* anywhere else (a test, a script) the process is never signalled: a test
  runner must not be killed by the code it tests. The failure is logged and
  waits for ``stop()``.

Opt-in supervision (``restart=True``) restarts a failed worker with
exponential backoff up to ``max_restarts`` times first.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from .exceptions import WorkerContextError
from .lifespan import lifespan_running

__all__ = ["WorkerController", "worker"]

log = logging.getLogger("falcon_pachinko.workers")

WorkerFn = Callable[..., Awaitable[Any]]
W = TypeVar("W", bound=WorkerFn)
FailurePolicy = Literal["shutdown", "log"] | Callable[[BaseException], Any]

#: Set to ``True`` on a decorated function, as the published ``worker`` does:
#: code written for that API (introspection, tools listing workers, its own
#: tests) reads it. ``WorkerController.start`` does not: any async function
#: can be started, decorated or not.
MARK = "__pachinko_worker__"


def worker(fn: W) -> W:
    """Mark ``async def`` ``fn`` as a background worker; returns ``fn`` itself.

    Decoration is optional. What it adds: a function that is not async
    fails here, at import, rather than at ``start()``; and
    ``fn.__pachinko_worker__`` is ``True`` (published marker, for readers
    and tools; the controller does not need it).
    """
    target: Any = fn  # checked without narrowing the declared type
    if not inspect.iscoroutinefunction(target):
        raise TypeError(f"worker {getattr(fn, '__qualname__', fn)!r} must be an async function")
    setattr(fn, MARK, True)
    return fn


def _kwargs_for(fn: WorkerFn, context: dict[str, Any]) -> dict[str, Any]:
    """The context keywords ``fn`` declares; a required one missing is an error."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(context)
    kwargs: dict[str, Any] = {}
    for p in params:
        required = p.default is inspect.Parameter.empty
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if p.kind is inspect.Parameter.POSITIONAL_ONLY:
            if required:
                raise WorkerContextError(
                    f"worker {fn.__qualname__!r} takes positional-only parameter {p.name!r}; "
                    "workers receive context as keyword arguments"
                )
            continue
        if p.name in context:
            kwargs[p.name] = context[p.name]
        elif required:
            raise WorkerContextError(
                f"worker {fn.__qualname__!r} needs context {p.name!r}, which start() was not given"
            )
    return kwargs


class WorkerController:
    """Start, supervise and stop background workers.

    Parameters
    ----------
    restart:
        Restart a worker that raised (exponential backoff from ``backoff`` to
        ``max_backoff`` seconds), at most ``max_restarts`` times.
    on_failure:
        After a worker fails for good: ``"shutdown"`` (default) asks the
        process to shut down gracefully when the controller was started
        inside a running ASGI lifespan, and only logs elsewhere; ``"log"``
        only logs; a callable receives the exception. In every case the
        failure is logged at once and ``stop()`` re-raises it.
    stop_timeout:
        Bound on how long ``stop()`` waits for cancelled workers.
    """

    def __init__(
        self,
        *,
        restart: bool = False,
        max_restarts: int = 5,
        backoff: float = 0.1,
        max_backoff: float = 10.0,
        on_failure: FailurePolicy = "shutdown",
        stop_timeout: float = 5.0,
    ) -> None:
        self.restart = restart
        self.max_restarts = max_restarts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.on_failure = on_failure
        self.stop_timeout = stop_timeout
        self._tasks: list[asyncio.Task[None]] = []
        self._in_lifespan = False
        self.failures: list[BaseException] = []
        self.restarts: dict[str, int] = {}

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self, *workers: WorkerFn, **context: Any) -> None:
        """Start every worker with the context keywords it declares."""
        if self._tasks:
            raise RuntimeError("WorkerController is already running; stop() it first")
        calls = []
        for fn in workers:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"worker {fn!r} must be an async function")
            calls.append((fn, _kwargs_for(fn, context)))  # all checked before any starts
        self.failures = []
        self.restarts = {}
        # Decided once, where start() runs: the worker tasks inherit the
        # context, but the question is who called start(), not who runs later.
        self._in_lifespan = lifespan_running()
        loop = asyncio.get_running_loop()
        for fn, kwargs in calls:
            name = f"pachinko-worker-{fn.__qualname__}"
            self._tasks.append(loop.create_task(self._run(fn, kwargs), name=name))

    async def _run(self, fn: WorkerFn, kwargs: dict[str, Any]) -> None:
        attempt = 0
        while True:
            try:
                await fn(**kwargs)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("worker %s failed", fn.__qualname__)
                if self.restart and attempt < self.max_restarts:
                    delay = min(self.backoff * (2**attempt), self.max_backoff)
                    attempt += 1
                    self.restarts[fn.__qualname__] = attempt
                    log.warning(
                        "restarting worker %s in %.2fs (restart %d of %d)",
                        fn.__qualname__,
                        delay,
                        attempt,
                        self.max_restarts,
                    )
                    await asyncio.sleep(delay)
                    continue
                self.failures.append(exc)
                self._escalate(exc)
                return

    def _escalate(self, exc: BaseException) -> None:
        policy = self.on_failure
        if callable(policy):
            policy(exc)
        elif policy == "shutdown":
            if self._in_lifespan:
                log.error("a worker failed; shutting the application down (SIGTERM)")
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                log.error(
                    "a worker failed outside an ASGI lifespan; not signalling the process, "
                    "stop() re-raises the failure"
                )

    async def stop(self) -> None:
        """Cancel every worker, wait (bounded), re-raise the first failure.

        Idempotent; the controller can be started again afterwards.
        """
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.stop_timeout)
            for task in pending:
                log.error(
                    "worker task %s ignored cancellation for %ss",
                    task.get_name(),
                    self.stop_timeout,
                )
        failures, self.failures = self.failures, []
        if failures:
            raise failures[0]

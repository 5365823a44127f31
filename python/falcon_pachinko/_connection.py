"""One connection's life: hooks, on_connect, accept, the receive loop, teardown.

The loop is the per-message hot path, so it is specialised once per
connection: without receive hooks it is just receive -> dispatch -> check
close. Failures stay inside the connection: a raising handler is logged
with the connection's context and closes that connection only.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from http import HTTPStatus
from types import CoroutineType
from typing import TYPE_CHECKING, Any

import falcon.asgi
from falcon.errors import WebSocketDisconnected

from ._peers import SEND_TIMEOUT, settle_unsent
from ._receive import (
    DISCONNECT,
    DONE,
    FAIR_BATCH,
    RawReceiver,
    finish,
    own_receive,
    runner,
)
from .hooks import HookCollection, HookContext, HookEvent, HookManager
from .protocols import falcon_receive_parts, frame_receiver

if TYPE_CHECKING:
    from .manager import WebSocketConnectionManager
    from .resource import WebSocketResource

__all__ = ["can_deny", "choose_subprotocol", "close_unaccepted", "deny", "serve_connection"]

log = logging.getLogger("falcon_pachinko.connection")
GOING_AWAY = 1001
# Where the server cannot send an HTTP status (no denial-response
# extension), a refused handshake closes before accept: with 1000 when
# on_connect rejects (the published behaviour, kept), with 3404 when no
# route matches (Falcon's own 3000 + status for ``HTTPNotFound``).
UNAUTHORISED_CLOSE = 1000
NOT_FOUND_CLOSE = 3404
_DENIAL_EXTENSION = "websocket.http.response"

try:  # NOTE: Falcon keeps the socket's state private; see ``deny``.
    from falcon.asgi.ws import _WebSocketState as _FalconWsState
except ImportError:  # pragma: no cover - a Falcon without it: close codes only
    _FalconWsState = None  # type: ignore[assignment,misc]

# Resource classes already warned about ``on_connect`` returning ``None``.
_warned_none: weakref.WeakSet[type] = weakref.WeakSet()


def choose_subprotocol(wanted: str | Sequence[str] | None, offered: Any) -> str | None:
    """The resource's first choice (``wanted`` in preference order) that the
    client offered, or ``None``.

    Sending a subprotocol the client did not offer makes conforming clients
    abort the handshake, so nothing is sent when nothing matches. ``offered``
    is the client's list (Falcon's ``ws.subprotocols``); ``None`` means the
    socket does not know the offer (a duck-typed socket), and the first
    choice is passed on as the published router did.
    """
    if not wanted:
        return None
    choices = (wanted,) if isinstance(wanted, str) else tuple(wanted)
    if offered is None:
        return choices[0] if choices else None
    return next((name for name in choices if name in offered), None)


def can_deny(req: Any, ws: Any) -> bool:
    if _FalconWsState is None or not isinstance(ws, falcon.asgi.WebSocket) or not ws.unaccepted:
        return False
    scope = getattr(req, "scope", None)
    extensions = scope.get("extensions") if isinstance(scope, dict) else None
    return isinstance(extensions, dict) and _DENIAL_EXTENSION in extensions


async def deny(req: Any, ws: Any, status: int, close_code: int) -> None:
    """Refuse a handshake so that the client can tell why.

    With the ASGI WebSocket Denial Response extension (uvicorn, hypercorn
    advertise it in ``scope["extensions"]``) the client gets an HTTP response
    with ``status``; otherwise the socket is closed with ``close_code``
    (before accept, servers then answer HTTP 403 whatever the code).

    NOTE: Falcon 4 has no public way to send a denial response, and after
    the responder returns it closes the socket itself, which the server
    refuses once a response was sent. So the two events go through the
    socket's ASGI ``send`` and the socket is marked closed, which turns
    Falcon's closing ``close()`` into the no-op it is for closed sockets.
    """
    if not can_deny(req, ws):
        await _safe_close(ws, close_code)
        return
    body = f"{status} {HTTPStatus(status).phrase}\n".encode()
    send = ws._asgi_send
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
    ws._state = _FalconWsState.CLOSED


async def _safe_close(ws: Any, code: int) -> None:
    try:
        if not getattr(ws, "closed", False):
            await ws.close(code)
    except Exception:
        log.debug("close(%s) failed on an already broken connection", code, exc_info=True)


async def close_unaccepted(ws: Any) -> None:
    """Close after a failure before accept: ``ws.close()`` with no code
    (published; before accept the client sees HTTP 403). Never raises: the
    failure being reported matters more than a broken socket.
    """
    try:
        if not getattr(ws, "closed", False):
            await ws.close()
    except Exception:
        log.debug("close() failed on an already broken connection", exc_info=True)


async def _handshake(
    target: WebSocketResource, hooks: HookManager, req: Any, ws: Any, params: dict[str, Any]
) -> bool:
    """before_connect hooks, on_connect, after_connect hooks; True to accept.

    A raising before-hook or ``on_connect`` closes the socket once and
    propagates; after ``on_connect`` raised, the after-hooks run first and
    see the exception as ``ctx.error``.
    """
    ctx = HookContext(HookEvent.BEFORE_CONNECT, target=target, req=req, ws=ws, params=params)
    try:
        await hooks.run_before(HookEvent.BEFORE_CONNECT, ctx)
    except BaseException:
        await close_unaccepted(ws)
        raise
    try:
        result = await target.on_connect(req, ws, **params)
    except Exception as exc:
        ctx.event, ctx.error = HookEvent.AFTER_CONNECT, exc
        try:
            await hooks.run_after(HookEvent.AFTER_CONNECT, ctx)
        except Exception:  # the on_connect failure is the one to report
            log.exception("after_connect hook failed after on_connect raised")
        await close_unaccepted(ws)
        raise
    except BaseException:  # cancelled: no hooks, just do not leave it open
        await close_unaccepted(ws)
        raise
    if result is None:
        _warn_none_once(type(target))
    ctx.event, ctx.result = HookEvent.AFTER_CONNECT, bool(result)
    await hooks.run_after(HookEvent.AFTER_CONNECT, ctx)
    return bool(ctx.result)


def _warn_none_once(cls: type) -> None:
    """``on_connect`` fell off its end: it rejects (published), but say so once."""
    if cls in _warned_none:
        return
    _warned_none.add(cls)
    log.warning(
        "%s.on_connect returned None, which rejects the connection; "
        "return True to accept (or False to reject explicitly)",
        cls.__qualname__,
    )


# What ``ws.accept()`` raises when the peer vanished during ``on_connect``:
# Falcon's ``WebSocketDisconnected`` or the server's own error (uvicorn's
# ``ClientDisconnected`` is an ``OSError``).
_PEER_GONE = (WebSocketDisconnected, OSError)
ABNORMAL = 1006


async def serve_connection(
    chain: Sequence[WebSocketResource],
    req: Any,
    ws: Any,
    params: dict[str, Any],
    *,
    global_hooks: HookCollection,
    manager: WebSocketConnectionManager | None,
    receive_loop: bool = True,
) -> None:
    """Run a connection to its end; ``chain`` is root -> ... -> target.

    With ``receive_loop=False`` only the handshake is done (published
    router behaviour for stub sockets and simulator factories).

    A connection registered with the manager is removed whatever happens
    after registration (rejection, ``on_connect`` raising, ``accept``
    failing because the peer reset, cancellation): nothing the peer does
    can leave a ghost connection or room member (issue 10).
    """
    target = chain[-1]
    target._request_path = getattr(req, "path", None)
    target._request = req
    hooks = HookManager(global_hooks=global_hooks, resources=chain)
    for resource in chain:  # every resource of the chain, via its class
        type(resource).bind_hook_manager(resource, hooks)
    conn_id = None
    if manager is not None:
        # Registered before on_connect so it can join rooms; frames sent to
        # it before the handshake completes wait in its outbox.
        conn_id = manager.new_connection_id()
        target.connection_id, target._manager = conn_id, manager
    try:
        if manager is not None and conn_id is not None:
            await manager.add_connection(conn_id, ws, pending=True)
        await _serve(
            target,
            hooks,
            req,
            ws,
            params,
            manager=manager,
            conn_id=conn_id,
            receive_loop=receive_loop,
        )
    finally:
        if manager is not None and conn_id is not None:
            await _forget(manager, conn_id)
        # Bytes the peer never reads must not hold the ended connection (and
        # a server's graceful shutdown) open: bounded by the stall limit
        # (the manager's send_timeout; without a manager, its default).
        stall = manager.send_timeout if manager is not None else SEND_TIMEOUT
        await settle_unsent(ws, conn_id, stall)


async def _forget(manager: WebSocketConnectionManager, conn_id: str) -> None:
    """Remove ``conn_id`` even when this task is being cancelled.

    NOTE: awaited directly (an in-process removal never suspends, so it
    costs no task); if a cancellation interrupts a backend that does
    suspend (a distributed one's I/O), the removal, idempotent, is run
    again in a task of its own that the cancellation cannot reach.
    """
    try:
        await manager.remove_connection(conn_id)
    except asyncio.CancelledError:
        retry = asyncio.ensure_future(manager.remove_connection(conn_id))
        _removals.add(retry)
        retry.add_done_callback(_removal_done)
        raise


# Removals running on their own after a cancellation (kept referenced).
_removals: set[asyncio.Future[None]] = set()


def _removal_done(task: asyncio.Future[None]) -> None:
    _removals.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("removing a cancelled connection failed", exc_info=task.exception())


async def _serve(
    target: WebSocketResource,
    hooks: HookManager,
    req: Any,
    ws: Any,
    params: dict[str, Any],
    *,
    manager: WebSocketConnectionManager | None,
    conn_id: str | None,
    receive_loop: bool,
) -> None:
    """Handshake, accept, the receive loop and teardown (registration aside)."""
    path = target._request_path
    accepted = await _handshake(target, hooks, req, ws, params)
    if not accepted:
        log.debug(
            "connection rejected by on_connect: resource=%s connection=%s path=%s",
            type(target).__qualname__,
            conn_id,
            path,
        )
        await deny(req, ws, 403, UNAUTHORISED_CLOSE)
        return
    subprotocol = None
    # Before accept (which would start Falcon's receive pump): the loop
    # reads the server's receive itself unless the resource opts out.
    receiver = None if not receive_loop or target.buffered_receive else own_receive(ws)
    try:
        if getattr(ws, "unaccepted", True):
            subprotocol = choose_subprotocol(
                getattr(target, "subprotocol", None), getattr(ws, "subprotocols", None)
            )
            await ws.accept(subprotocol=subprotocol) if subprotocol else await ws.accept()
    except _PEER_GONE:
        # The peer reset while on_connect ran: on_connect accepted, so its
        # clean-up (on_disconnect) still runs, with 1006 (no close frame).
        log.debug(
            "peer gone before accept: resource=%s connection=%s path=%s",
            type(target).__qualname__,
            conn_id,
            path,
        )
        await _teardown(target, hooks, req, ws, ABNORMAL)
        return
    if manager is not None and conn_id is not None:
        manager.activate(conn_id)
    log.debug(
        "connection accepted: resource=%s connection=%s path=%s subprotocol=%s",
        type(target).__qualname__,
        conn_id,
        path,
        subprotocol,
    )
    if not receive_loop:
        return
    code = 1000
    try:
        code = await _receive_loop(target, hooks, req, ws, conn_id, receiver=receiver)
    except asyncio.CancelledError:
        code = GOING_AWAY
        await _safe_close(ws, GOING_AWAY)
        raise
    finally:
        if receiver is not None:
            receiver.close()
        if manager is not None and conn_id is not None and target.close_code is None:
            # The manager closed it (slow peer, shutdown): report that code,
            # not the generic one the receive side saw.
            code = manager.server_close_code(conn_id) or code
        log.debug(
            "connection closed: resource=%s connection=%s path=%s code=%s",
            type(target).__qualname__,
            conn_id,
            path,
            code,
        )
        await _teardown(target, hooks, req, ws, code)


async def _teardown(
    target: WebSocketResource, hooks: HookManager, req: Any, ws: Any, code: int
) -> None:
    """``before_disconnect`` hooks, then ``on_disconnect`` (exactly once)."""
    ctx = HookContext(HookEvent.BEFORE_DISCONNECT, target=target, req=req, ws=ws, close_code=code)
    await hooks.run_before(HookEvent.BEFORE_DISCONNECT, ctx)
    await target.on_disconnect(ws, code)


async def _receive_loop(
    target: WebSocketResource,
    hooks: HookManager,
    req: Any,
    ws: Any,
    conn_id: str | None,
    *,
    receiver: RawReceiver | None,
) -> int:
    """Dispatch frames until the peer disconnects or the server closes; the code.

    PERF: this is the per-message path. Without receive hooks and with the
    stock ``dispatch``, each frame takes the dispatcher's one path
    (``Dispatcher.handle``: scan, lookup and decode in one native call,
    then the handler's own coroutine); otherwise it goes through
    ``target.dispatch``, which runs the receive hooks. With ``receiver`` (a
    Falcon socket whose receive the router owns, see ``_receive``) the loop
    is :func:`_owned_loop`.
    """
    # The manager bound to the target is the one ``dispatch()`` runs: decide
    # from it (``on_connect`` may have bound its own), not from a second copy.
    bound = target._hook_manager or hooks
    stock = not bound.has_receive_hooks and _stock_dispatch(target)
    if receiver is not None:
        # PERF: the loop runs in a task of its own, so the await chain that
        # is suspended and resumed on every frame starts at the loop (three
        # coroutines down to the server's queue) instead of at uvicorn's
        # run_asgi (a dozen: the server, its middleware, Falcon's app, the
        # router, this module): about a sixth of what the library added per
        # round trip over a bare ASGI app (docs/benchmarks.md). A
        # cancellation of this task reaches the loop through the await; the
        # loop task starts with a copy of this task's context (contextvars
        # set by on_connect are seen by handlers; ones a handler sets are
        # not seen by on_disconnect: docs/guide/dispatch.md).
        task = asyncio.ensure_future(
            _owned_loop(target, req, ws, conn_id, receiver=receiver, stock=stock)
        )
        receiver.loop_task = task
        return await task
    parts = falcon_receive_parts(ws)
    require_open, receive_event = parts if parts is not None else (None, None)
    receive = frame_receiver(ws) if parts is None else None
    if parts is None and receive is None:
        raise TypeError(f"{type(ws).__name__} has no method that receives frames")
    dispatch = target.dispatch
    while True:
        try:
            if receive_event is not None:
                require_open()  # type: ignore[misc]
                event = await receive_event()
                raw = event.get("text")
                if raw is None:
                    raw = event.get("bytes") or b""
            else:
                raw = await receive()  # type: ignore[misc]
                if type(raw) is not str and type(raw) is not bytes:
                    if not isinstance(raw, (bytearray, memoryview)):
                        return await _not_a_frame(target, ws, raw, conn_id)
                    raw = bytes(raw)
        except WebSocketDisconnected as exc:
            return target.close_code or exc.code or 1000
        try:
            # Read per frame: ``add_handler`` on the instance replaces it.
            await (target._dispatcher.handle(target, ws, raw) if stock else dispatch(ws, raw))
        except WebSocketDisconnected as exc:
            return target.close_code or exc.code or 1000
        except Exception:  # noqa: BLE001 - logged with traceback in _handler_failed
            await _handler_failed(target, ws, req, conn_id)
        if target.close_code is not None:
            return target.close_code


async def _owned_loop(
    target: WebSocketResource,
    req: Any,
    ws: Any,
    conn_id: str | None,
    *,
    receiver: RawReceiver,
    stock: bool,
) -> int:
    """The receive loop of a Falcon socket whose receive the router owns.

    PERF: it runs at the top of a task of its own (see ``_receive_loop``);
    per frame: one check of the socket's state (what Falcon's
    ``_require_accepted`` checks), the server's ``receive`` awaited right
    here (:meth:`RawReceiver.next_event` only when something was read
    ahead), the dispatcher's one path, and the handler's coroutine sent to
    this connection's :func:`~._receive.runner`: a handler that finishes
    without suspending (the common case) costs one generator step and no
    exception; one that suspends starts the read-ahead (so a disconnect is
    seen while it runs) and is then awaited through :func:`~._receive.finish`.
    """
    next_event = receiver.next_event
    server_receive = receiver.server_receive
    gone = receiver.transport_closing
    on_suspend = receiver.handler_suspended
    dispatch = target.dispatch
    closed = _FalconWsState.CLOSED
    # Frames left before the loop yields once (FAIR_BATCH): the server hands
    # over frames it had queued without the event loop running, and one
    # client's burst must not hold every other connection. A handler that
    # suspends let the event loop run: the count starts again.
    budget = FAIR_BATCH
    run = runner()
    run.send(None)
    while True:
        if ws._state is closed:  # closed by the server side (Falcon's check)
            return target.close_code or ws._close_code or 1000
        budget -= 1
        if not budget:
            budget = FAIR_BATCH
            await asyncio.sleep(0)
        if not receiver._ahead and receiver._task is None and not receiver._stopped:
            # PERF: next_event's common case (RawReceiver.idle) inline, one
            # coroutine less per frame; its bookkeeping (arrived) only for
            # the events that need it.
            receiver.parked = True
            try:
                event = await server_receive()
            except asyncio.CancelledError:
                receiver.parked = False
                event = receiver._cancelled_while_parked()
            else:
                receiver.parked = False
                if (gone is not None and gone()) or event["type"] == DISCONNECT:
                    receiver.arrived(event)
        else:
            event = await next_event()
        raw = event.get("text")
        if raw is None:
            if event["type"] == DISCONNECT:
                return target.close_code or event.get("code") or 1000
            raw = event.get("bytes") or b""
        try:
            # Read per frame: ``add_handler`` on the instance replaces it.
            step = target._dispatcher.handle(target, ws, raw) if stock else dispatch(ws, raw)
            # A user's dispatch override may return any awaitable.
            yielded = run.send(step if type(step) is CoroutineType else step.__await__())
            if yielded is not DONE:
                on_suspend()
                budget = FAIR_BATCH
                await finish(run, yielded)
        except WebSocketDisconnected as exc:
            # The peer is gone: its own close code, not the send's generic one.
            return target.close_code or await receiver.close_code(exc.code)
        except Exception:  # noqa: BLE001 - logged with traceback in _handler_failed
            # The exception ended the runner with the handler; a failed
            # handler closes the connection, and should the loop go on (a
            # close that failed), the next frame gets a fresh runner.
            run = runner()
            run.send(None)
            await _handler_failed(target, ws, req, conn_id)
        if target.close_code is not None:
            return target.close_code


async def _not_a_frame(target: WebSocketResource, ws: Any, value: Any, conn_id: str | None) -> int:
    """A receive method returned something that is not a frame (``None`` from
    a stub socket, say): the connection ends instead of spinning on it.
    """
    log.debug(
        "receive returned %s, not a frame: ending connection=%s resource=%s",
        type(value).__name__,
        conn_id,
        type(target).__qualname__,
    )
    await _safe_close(ws, 1000)
    return target.close_code or 1000


def _stock_dispatch(target: WebSocketResource) -> bool:
    from .resource import WebSocketResource

    return type(target).dispatch is WebSocketResource.dispatch


async def _handler_failed(
    target: WebSocketResource, ws: Any, req: Any, conn_id: str | None
) -> None:
    """Log with the connection's context and close that connection only."""
    log.exception(
        "handler failed: resource=%s connection=%s path=%s; closing with %s",
        type(target).__qualname__,
        conn_id,
        getattr(req, "path", "?"),
        target.handler_error_close_code,
    )
    target.close_code = target.close_code or target.handler_error_close_code
    await _safe_close(ws, target.close_code)

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
from typing import TYPE_CHECKING, Any

import falcon.asgi
from falcon.errors import WebSocketDisconnected

from .dispatch import ROUTE_ERRORS
from .hooks import HookCollection, HookContext, HookEvent, HookManager
from .protocols import falcon_receive_parts, frame_receiver

if TYPE_CHECKING:
    from .manager import WebSocketConnectionManager
    from .resource import WebSocketResource

__all__ = ["can_deny", "choose_subprotocol", "deny", "serve_connection"]

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


async def _handshake(
    target: WebSocketResource, hooks: HookManager, req: Any, ws: Any, params: dict[str, Any]
) -> bool:
    """before_connect hooks, on_connect, after_connect hooks; True to accept."""
    ctx = HookContext(HookEvent.BEFORE_CONNECT, target=target, req=req, ws=ws, params=params)
    try:
        await hooks.run_before(HookEvent.BEFORE_CONNECT, ctx)
        result = await target.on_connect(req, ws, **params)
        if result is None:
            _warn_none_once(type(target))
        accepted = bool(result)
    except BaseException:
        await _safe_close(ws, 1011)
        raise
    ctx.event, ctx.result = HookEvent.AFTER_CONNECT, accepted
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


async def serve_connection(
    chain: Sequence[WebSocketResource],
    req: Any,
    ws: Any,
    params: dict[str, Any],
    *,
    global_hooks: HookCollection,
    manager: WebSocketConnectionManager | None,
) -> None:
    """Run a connection to its end; ``chain`` is root -> ... -> target."""
    target = chain[-1]
    path = getattr(req, "path", None)
    target._request_path = path
    hooks = HookManager(global_hooks=global_hooks, resources=chain)
    target.bind_hook_manager(hooks)
    conn_id: str | None = None
    if manager is not None:
        # Registered before on_connect so it can join rooms; frames sent to
        # it before the handshake completes wait in its outbox.
        conn_id = manager.new_connection_id()
        await manager.add_connection(conn_id, ws, pending=True)
        target.connection_id, target._manager = conn_id, manager
    try:
        accepted = await _handshake(target, hooks, req, ws, params)
    except BaseException:
        if manager is not None and conn_id is not None:
            await manager.remove_connection(conn_id)
        raise
    if not accepted:
        if manager is not None and conn_id is not None:
            await manager.remove_connection(conn_id)
        log.debug(
            "connection rejected by on_connect: resource=%s connection=%s path=%s",
            type(target).__qualname__,
            conn_id,
            path,
        )
        await deny(req, ws, 403, UNAUTHORISED_CLOSE)
        return
    subprotocol = None
    if getattr(ws, "unaccepted", True):
        subprotocol = choose_subprotocol(
            getattr(target, "subprotocol", None), getattr(ws, "subprotocols", None)
        )
        await ws.accept(subprotocol=subprotocol) if subprotocol else await ws.accept()
    if manager is not None and conn_id is not None:
        manager.activate(conn_id)
    log.debug(
        "connection accepted: resource=%s connection=%s path=%s subprotocol=%s",
        type(target).__qualname__,
        conn_id,
        path,
        subprotocol,
    )
    code = 1000
    try:
        code = await _receive_loop(target, hooks, req, ws, conn_id)
    except asyncio.CancelledError:
        code = GOING_AWAY
        await _safe_close(ws, GOING_AWAY)
        raise
    finally:
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
        try:
            ctx = HookContext(
                HookEvent.BEFORE_DISCONNECT, target=target, req=req, ws=ws, close_code=code
            )
            await hooks.run_before(HookEvent.BEFORE_DISCONNECT, ctx)
            await target.on_disconnect(ws, code)
        finally:
            if manager is not None and conn_id is not None:
                await manager.remove_connection(conn_id)


async def _receive_loop(
    target: WebSocketResource, hooks: HookManager, req: Any, ws: Any, conn_id: str | None
) -> int:
    """Dispatch frames until the peer disconnects or the server closes; the code.

    PERF: this is the per-message path. For Falcon's WebSocket the ASGI
    event is read inline (no wrapper coroutine), and without receive hooks
    and with the stock ``dispatch`` a text frame whose tag has a handler is
    scanned, looked up and decoded in one native call.
    """
    with_hooks = hooks.has(HookEvent.BEFORE_RECEIVE) or hooks.has(HookEvent.AFTER_RECEIVE)
    fast = not with_hooks and _stock_dispatch(target)
    parts = falcon_receive_parts(ws)
    require_open, receive_event = parts if parts is not None else (None, None)
    receive = frame_receiver(ws) if parts is None else None
    route, dispatch = target.route, target.dispatch
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
        except WebSocketDisconnected as exc:
            return target.close_code or exc.code or 1000
        try:
            if not fast:
                if with_hooks:
                    await _dispatch_with_hooks(target, hooks, req, ws, raw)
                else:
                    await dispatch(ws, raw)
            else:
                entry = None
                if type(raw) is str:
                    try:
                        entry, value = target._dispatcher.table.route(raw)
                    except ROUTE_ERRORS:
                        entry = None
                if entry is None or entry.fn is None:
                    entry, value = route(raw)
                fn = entry.fn
                if fn is None:
                    await target.fallback(ws, raw, entry, value)
                elif entry.positional:
                    await fn(target, ws, value)
                else:
                    await fn(target, ws, **{entry.param: value})
        except WebSocketDisconnected as exc:
            return target.close_code or exc.code or 1000
        except Exception:  # noqa: BLE001 - logged with traceback in _handler_failed
            await _handler_failed(target, ws, req, conn_id)
        if target.close_code is not None:
            return target.close_code


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


async def _dispatch_with_hooks(
    target: WebSocketResource, hooks: HookManager, req: Any, ws: Any, raw: str | bytes
) -> None:
    ctx = HookContext(HookEvent.BEFORE_RECEIVE, target=target, req=req, ws=ws, raw=raw)
    try:
        await hooks.run_before(HookEvent.BEFORE_RECEIVE, ctx)
    except Exception as exc:  # noqa: BLE001 - a before-hook vetoes this frame only
        log.warning("before_receive hook refused a frame on %s: %r", type(target).__qualname__, exc)
        ctx.error = exc
        ctx.event = HookEvent.AFTER_RECEIVE
        await hooks.run_after(HookEvent.AFTER_RECEIVE, ctx)
        return
    try:
        await target.dispatch(ws, ctx.raw if ctx.raw is not None else raw)
    except Exception as exc:
        ctx.error = exc
        ctx.event = HookEvent.AFTER_RECEIVE
        await hooks.run_after(HookEvent.AFTER_RECEIVE, ctx)
        raise
    ctx.event = HookEvent.AFTER_RECEIVE
    await hooks.run_after(HookEvent.AFTER_RECEIVE, ctx)

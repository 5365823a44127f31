"""Every exception falcon-pachinko raises, defined once.

The native module imports these very classes (it never defines its own), so
``except FrameError`` behaves the same whichever implementation is loaded.
Each class subclasses the stdlib type a caller would already catch, and
carries structured attributes instead of a message to parse.
"""

from __future__ import annotations

__all__ = [
    "BusFrameError",
    "DeliveryTimeoutError",
    "DuplicateHandlerRegistrationError",
    "FrameError",
    "HandlerNotAsyncError",
    "HandlerSignatureError",
    "InvalidWebSocketRoutePathError",
    "LimitExceededError",
    "MissingDependencyError",
    "PartialWebSocketInstallError",
    "ServiceNotFoundError",
    "SignatureInspectionError",
    "SlowConsumerError",
    "WebSocketConnectionNotFoundError",
    "WebSocketResourceNotFoundError",
    "WorkerContextError",
]

_FRAME_MESSAGES = {
    "too_large": "frame exceeds the maximum size",
    "utf8": "frame is not valid UTF-8",
    "eof": "unexpected end of frame",
    "syntax": "invalid JSON",
    "depth": "frame nesting exceeds the maximum depth",
    "not_object": "frame is not a JSON object",
    "trailing": "trailing data after the JSON object",
    "missing_tag": "frame has no tag key",
    "tag_type": "frame tag is not a string",
    "escape": "string contains an unpaired surrogate escape",
}


class FrameError(ValueError):
    """A frame the scanner refused.

    Attributes
    ----------
    kind:
        One of ``too_large, utf8, eof, syntax, depth, not_object, trailing,
        missing_tag, tag_type, escape``.
    position:
        Byte offset (in the UTF-8 encoding) where the problem was detected.
    """

    kinds = frozenset(_FRAME_MESSAGES)

    def __init__(self, kind: str, position: int) -> None:
        self.kind = kind
        self.position = position
        message = _FRAME_MESSAGES.get(kind, kind)
        super().__init__(f"{message} (kind={kind!r}, position={position})")

    def __reduce__(self) -> tuple[type[FrameError], tuple[str, int]]:
        return (type(self), (self.kind, self.position))


_BUS_MESSAGES = {
    "too_large": "bus frame or field exceeds its size limit",
    "magic": "not a falcon-pachinko bus frame",
    "version": "unsupported bus frame version",
    "target_kind": "unknown bus target kind",
    "flags": "unknown bus frame flags",
    "eof": "bus frame truncated",
    "utf8": "bus frame text is not valid UTF-8",
    "trailing": "trailing data after the bus frame",
}


class BusFrameError(ValueError):
    """A bus frame (Redis backend) that could not be encoded or decoded.

    Attributes
    ----------
    kind:
        One of ``too_large, magic, version, target_kind, flags, eof, utf8,
        trailing``.
    position:
        Byte offset of the field where the problem was detected (0 when
        encoding).
    """

    kinds = frozenset(_BUS_MESSAGES)

    def __init__(self, kind: str, position: int) -> None:
        self.kind = kind
        self.position = position
        message = _BUS_MESSAGES.get(kind, kind)
        super().__init__(f"{message} (kind={kind!r}, position={position})")

    def __reduce__(self) -> tuple[type[BusFrameError], tuple[str, int]]:
        return (type(self), (self.kind, self.position))


class HandlerNotAsyncError(TypeError):
    """A message handler was declared with ``def`` instead of ``async def``."""


class HandlerSignatureError(TypeError):
    """A message handler's parameters do not fit ``(self, ws, payload)``."""


class SignatureInspectionError(RuntimeError):
    """A handler's signature cannot be inspected (some C callables).

    Published name (``falcon_pachinko.exceptions``); ``func_qualname`` names
    the handler.
    """

    def __init__(self, func_qualname: str) -> None:
        self.func_qualname = func_qualname
        super().__init__(f"Cannot inspect signature for handler {func_qualname}")


class DuplicateHandlerRegistrationError(RuntimeError):
    """Two handlers claim the same tag in one class body."""


class ServiceNotFoundError(LookupError):
    """A service name was resolved that no one registered.

    ``name`` is the service asked for, so callers need not parse the message
    (published as ``ServiceNotFoundError(name)``).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no service registered as {name!r}")

    def __reduce__(self) -> tuple[type[ServiceNotFoundError], tuple[str]]:
        return (type(self), (self.name,))


class PartialWebSocketInstallError(RuntimeError):
    """``install(app)`` found some of its attributes on ``app`` but not its own state.

    Installing over them would leave two managers that disagree, so it
    refuses instead (published behaviour).
    """

    def __init__(self, present: tuple[str, ...] = ()) -> None:
        self.present = present
        detail = f" (already present: {', '.join(present)})" if present else ""
        super().__init__(f"Partial WebSocket install detected; aborting.{detail}")

    def __reduce__(self) -> tuple[type[PartialWebSocketInstallError], tuple[tuple[str, ...]]]:
        return (type(self), (self.present,))


class InvalidWebSocketRoutePathError(ValueError):
    """``app.add_websocket_route`` got a path that is empty, lacks the leading
    ``/`` or contains whitespace. ``path`` is the value given.
    """

    def __init__(self, path: object) -> None:
        self.path = path
        super().__init__(f"Invalid WebSocket route path: {path!r}")

    def __reduce__(self) -> tuple[type[InvalidWebSocketRoutePathError], tuple[object]]:
        return (type(self), (self.path,))


class WebSocketResourceNotFoundError(ValueError):
    """``app.create_websocket_resource(path)`` for a path nobody registered."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"No WebSocket resource registered for path: {path}")

    def __reduce__(self) -> tuple[type[WebSocketResourceNotFoundError], tuple[str]]:
        return (type(self), (self.path,))


class WebSocketConnectionNotFoundError(KeyError):
    """A connection id is not known to the connection backend."""


class MissingDependencyError(ImportError):
    """An optional dependency (an extra such as ``[redis]``) is not installed."""


class WorkerContextError(TypeError):
    """A worker declares a context keyword that ``start()`` was not given."""


class DeliveryTimeoutError(TimeoutError):
    """A broadcast's per-recipient timeout expired before the frame was sent."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id
        super().__init__(f"delivery to connection {conn_id!r} timed out")


class SlowConsumerError(ConnectionError):
    """A peer was closed as slow (send stalled or outbox overflowed)."""

    def __init__(self, conn_id: str, reason: str) -> None:
        self.conn_id = conn_id
        self.reason = reason
        super().__init__(f"connection {conn_id!r} closed as slow consumer: {reason}")


class LimitExceededError(ValueError):
    """A membership limit of the connection manager would be exceeded.

    ``limit`` names it (``"room_name_length"``, ``"rooms_per_connection"``,
    ``"user_id_length"``, ``"connections_per_user"``), ``maximum`` is the
    configured bound, ``conn_id`` the connection that asked.
    """

    def __init__(self, limit: str, maximum: int, conn_id: str) -> None:
        self.limit = limit
        self.maximum = maximum
        self.conn_id = conn_id
        super().__init__(f"{limit} limit ({maximum}) exceeded by connection {conn_id!r}")

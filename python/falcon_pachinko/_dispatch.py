"""Per-class dispatch tables, built once, read on every frame.

A ``Dispatcher`` holds a native (or pure) ``TagTable`` that maps a frame's
tag to a slot, and per slot an ``Entry`` with the handler and a prebuilt
msgspec decoder. Unknown tags are therefore known before any payload is
decoded. Convention handlers (``on_<snake_case(tag)>``) are indexed by their
snake-case name at build time; the usual spellings of each (``send_message``,
``sendMessage``, ``SendMessage``, ``send.message``, ``send-message``) are in
the table from the start, and any other spelling is resolved per frame
without being remembered: what a client sends never grows a cache or makes
the table be rebuilt (issue 10: 1,100 distinct 10 KiB spellings of ``ping``
used to pin 10 MiB per class and rebuild the table per spelling).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from . import _accel
from .exceptions import FrameError, HandlerNotAsyncError, HandlerSignatureError
from .handlers import MARK, HandlerInfo, inspect_handler, snake_case

__all__ = [
    "ADDED",
    "BINARY",
    "NULL_PAYLOAD",
    "REASONS",
    "REFUSED",
    "RESERVED",
    "ROUTE_ERRORS",
    "UNHANDLED",
    "Dispatcher",
    "Entry",
    "reason_for",
]

# Lifecycle methods that a tag must never reach through the convention.
RESERVED = frozenset(
    {"on_connect", "on_disconnect", "on_unhandled", "on_validation_error", "on_websocket"}
)
_json_any = msgspec.json.Decoder()

# What a missing or ``null`` payload is decoded as: JSON ``null`` into the
# handler's annotation, so ``payload: Say`` is a validation failure and
# ``payload: Say | None`` receives ``None`` (DESIGN §6.2).
NULL_PAYLOAD = b"null"

# Why a frame reached no handler: the fixed vocabulary of the DEBUG log
# lines and of ``manager.stats()["unhandled_frames"]`` (README "Bad input").
INVALID_JSON = "invalid_json"
NOT_OBJECT = "not_object"
MISSING_TYPE = "missing_type"
UNKNOWN_TYPE = "unknown_type"
VALIDATION = "validation"
BINARY_REASON = "binary"
TOO_LARGE = "too_large"
TOO_DEEP = "too_deep"
REASONS = frozenset(
    {
        INVALID_JSON,
        NOT_OBJECT,
        MISSING_TYPE,
        UNKNOWN_TYPE,
        VALIDATION,
        BINARY_REASON,
        TOO_LARGE,
        TOO_DEEP,
    }
)
_FRAME_REASONS = {
    "too_large": TOO_LARGE,
    "depth": TOO_DEEP,
    "not_object": NOT_OBJECT,
    "missing_tag": MISSING_TYPE,
    "tag_type": MISSING_TYPE,
    # utf8, eof, syntax, trailing, escape: the frame is not valid JSON text
}


def reason_for(error: BaseException) -> str:
    """The reason string for an error ``TagTable.route`` raised."""
    if isinstance(error, FrameError):
        return _FRAME_REASONS.get(error.kind, INVALID_JSON)
    if isinstance(error, RecursionError):
        return TOO_DEEP
    return VALIDATION


def _forbidding(struct: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """A same-named subclass that rejects unknown fields (strict handlers)."""
    sub = types.new_class(struct.__name__, (struct,), {"forbid_unknown_fields": True})
    sub.__qualname__ = struct.__qualname__
    sub.__module__ = struct.__module__
    return sub


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def payload_decoder(payload_type: Any, strict: bool) -> Callable[[bytes], Any]:
    """Decoder for an envelope's raw payload bytes, built once per handler.

    msgspec fixes the unknown-field policy per type, not per decode. For a
    strict handler whose Struct allows unknown fields, decoding goes through
    a same-layout subclass that forbids them, and the result's class is set
    back to the user's Struct (so equality and ``type(p) is T`` hold). This
    applies to a top-level Struct payload; nested Structs keep their own
    policy.
    """
    if payload_type is None or payload_type is Any or isinstance(payload_type, str):
        return _json_any.decode  # no usable annotation: the decoded JSON
    if (
        strict
        and _is_struct(payload_type)
        and not payload_type.__struct_config__.forbid_unknown_fields
    ):
        checked = msgspec.json.Decoder(_forbidding(payload_type), strict=True).decode

        def decode(data: bytes) -> Any:
            value = checked(data)
            value.__class__ = payload_type
            return value

        return decode
    return msgspec.json.Decoder(payload_type, strict=strict).decode


class Entry:
    """One dispatch slot: the handler and how to decode its argument.

    ``call(resource, ws, value)`` is the handler normalised at build time
    (a keyword payload parameter is bound by a small wrapper), so the
    message path makes one call shape for every handler.
    """

    __slots__ = ("call", "decode", "fn", "info", "param", "positional")

    def __init__(self, info: HandlerInfo | None, decode: Callable[[Any], Any]) -> None:
        self.info = info
        self.fn = info.fn if info is not None else None
        self.decode = decode
        self.param = info.payload_param if info is not None else "payload"
        self.positional = info.positional if info is not None else True
        self.call: Callable[[Any, Any, Any], Awaitable[Any]] | None = _normalised(
            self.fn, self.positional, self.param
        )


def _normalised(
    fn: Any, positional: bool, param: str
) -> Callable[[Any, Any, Any], Awaitable[Any]] | None:
    """``fn`` as ``(resource, ws, value)``: itself, or a keyword-binding wrapper."""
    if fn is None or positional:
        return fn  # type: ignore[no-any-return]

    def call(resource: Any, ws: Any, value: Any) -> Awaitable[Any]:
        return fn(resource, ws, **{param: value})  # type: ignore[no-any-return]

    return call


# What a frame that is not JSON, not an envelope or not a valid payload
# raises on its way through ``TagTable.route``. ``RecursionError``: with
# ``max_depth`` raised past what Python's recursion limit allows, msgspec
# (and the pure scanner) give up on a deep payload with it; that is the
# frame's fault, a validation failure (reason ``too_deep``), never a
# handler crash (issue 10).
ROUTE_ERRORS = (FrameError, msgspec.ValidationError, msgspec.DecodeError, RecursionError)

# msgspec (0.23 here) reports a lone surrogate escape in a string ("\\ud83d"
# from a browser that cut an emoji in half: valid JSON, not text) as "Input
# data was truncated" when fewer than six bytes follow it, otherwise as
# malformed JSON with a byte offset counted from the payload's start. A
# frame that reached msgspec was scanned complete, so on this path the
# "truncated" message can only mean that, and it would send an operator
# looking for a proxy that cuts frames. Replaced on the error path only
# (the same exception type, msgspec's own as ``__cause__``).
_MSGSPEC_TRUNCATED = "Input data was truncated"
LONE_SURROGATE = (
    "a string holds an unpaired UTF-16 surrogate escape (one of \\ud800-\\udfff "
    "without its other half, as JSON.stringify writes for an emoji cut in half): "
    "valid JSON, but not text"
)


def refused(error: Exception) -> Exception:
    """The error a refused frame reports: ``error``, or one that names a lone
    surrogate escape where msgspec's message does not (see ``LONE_SURROGATE``)."""
    if type(error) is msgspec.DecodeError:
        message = str(error)
        if message == _MSGSPEC_TRUNCATED or "surrogate" in message:
            clearer = msgspec.DecodeError(LONE_SURROGATE)
            clearer.__cause__ = error
            return clearer
    return error


# Sentinel entries (no handler) that ``WebSocketResource.route`` returns for
# frames that go to ``fallback`` instead of a handler.
def _no_decode(data: Any) -> Any:
    raise AssertionError("sentinel entries are never decoded")


UNHANDLED = Entry(None, _no_decode)
REFUSED = Entry(None, _no_decode)
BINARY = Entry(None, _no_decode)


def _schema_members(schema: Any) -> tuple[str, dict[str, type[msgspec.Struct]]]:
    """The tag field and tag -> Struct of a tagged Struct or union of them."""
    members = (
        typing.get_args(schema)
        if typing.get_origin(schema) in (typing.Union, types.UnionType)
        else (schema,)
    )
    tag_field: str | None = None
    by_tag: dict[str, type[msgspec.Struct]] = {}
    for member in members:
        config = getattr(member, "__struct_config__", None)
        if not _is_struct(member) or config is None or config.tag is None:
            raise TypeError(f"schema members must be tagged msgspec Structs; got {member!r}")
        if not isinstance(config.tag, str):
            raise TypeError(f"schema tags must be strings; {member.__name__} has {config.tag!r}")
        if tag_field is not None and config.tag_field != tag_field:
            raise TypeError("schema members must share one tag field")
        tag_field = config.tag_field
        by_tag[config.tag] = member
    assert tag_field is not None  # a union has at least one member
    return tag_field, by_tag


def _entry(info: HandlerInfo, strict: bool) -> Entry:
    """An entry with its prebuilt decoder; an undecodable annotation is named."""
    try:
        decode = payload_decoder(info.payload_type, strict)
    except TypeError as exc:
        raise HandlerSignatureError(
            f"Handler {info.fn.__qualname__!r} for message type {info.tag!r} cannot take "
            f"its payload: parameter {info.payload_param!r} is annotated "
            f"{info.payload_type!r}, which msgspec cannot decode ({exc})"
        ) from exc
    return Entry(info, decode)


class Dispatcher:
    """Tag table plus handler entries for one resource class (or instance).

    The native ``TagTable`` holds, per tag, the ``Entry`` and its decoder, so
    ``table.route(raw)`` scans, looks up and decodes in one call.
    """

    __slots__ = (
        "_binary",
        "_by_name",
        "_key",
        "_limits",
        "_slots",
        "conventions",
        "entries",
        "schema",
        "table",
    )

    def __init__(
        self,
        handlers: dict[str, HandlerInfo],
        conventions: dict[str, HandlerInfo],
        schema: Any,
        *,
        max_size: int,
        max_depth: int,
        binary_frames: str = "dispatch",
    ) -> None:
        self.schema = schema
        # Binary frames go to the table only with "dispatch" (DESIGN §6.2).
        self._binary = binary_frames != "dispatch"
        self.conventions = conventions
        # Convention entries built now, not on the first frame: a payload
        # annotation msgspec cannot decode fails at class creation.
        self._by_name: dict[str, Entry] = (
            {name: _entry(info, True) for name, info in conventions.items()}
            if schema is None
            else {}
        )
        self.entries: list[Entry] = []
        self._slots: dict[str, int] = {}
        self._limits = (max_size, max_depth)
        if schema is None:
            self._key = "type"
            for tag, info in handlers.items():
                self._add(tag, _entry(info, info.strict))
            for name, entry in self._by_name.items():
                for spelling in _spellings(name):
                    if spelling not in self._slots:
                        self._add(spelling, entry)
        else:
            self._key, members = _schema_members(schema)
            by_type: dict[Any, HandlerInfo] = {}
            for info in handlers.values():
                if info.payload_type in members.values():
                    if info.payload_type in by_type:
                        raise ValueError(
                            f"Duplicate payload type {info.payload_type.__name__!r}: handled by "
                            f"{by_type[info.payload_type].fn.__qualname__!r} and "
                            f"{info.fn.__qualname__!r}"
                        )
                    by_type[info.payload_type] = info
            for tag, member in members.items():
                chosen = (
                    by_type.get(member) or handlers.get(tag) or conventions.get(snake_case(tag))
                )
                strict = chosen.strict if chosen is not None else True
                self._add(tag, Entry(chosen, msgspec.json.Decoder(member, strict=strict).decode))
        self.table = self._build_table()

    def _add(self, tag: str, entry: Entry) -> None:
        self._slots[tag] = len(self.entries)
        self.entries.append(entry)

    def _build_table(self) -> Any:
        routes = [(e, e.decode if e.fn is not None else None) for e in self.entries]
        max_size, max_depth = self._limits
        return _accel.TagTable(
            self._slots,
            key=self._key,
            max_size=max_size,
            max_depth=max_depth,
            routes=routes,
            whole_frame=self.schema is not None,
        )

    def resolve(self, raw: str | bytes) -> tuple[Entry, Any]:
        """Scan, look up and decode ``raw`` once: ``(entry, value)``.

        The one message path (issue 13). A handler's entry comes with its
        decoded argument; a frame no handler takes yields a sentinel entry
        (``call`` is ``None``) with the error (``REFUSED``) or the reason
        (``UNHANDLED``, ``BINARY``) for the resource's fallback. On a table
        miss the scan's own ``(tag, payload)`` resolves a convention
        spelling: no frame is ever scanned twice.
        """
        if self._binary and type(raw) is bytes:
            return self._binary_frame(raw)
        try:
            entry, value = self.table.route(raw)
        except ROUTE_ERRORS as exc:
            return REFUSED, refused(exc)
        except TypeError:  # not str or bytes: a socket handed over something else
            return UNHANDLED, INVALID_JSON
        if entry is None or entry.call is None:
            return self._missed(entry, value)
        return entry, value

    def _binary_frame(self, raw: bytes) -> tuple[Entry, Any]:
        """A binary frame the table does not take (``binary_frames`` is not
        ``"dispatch"``): still held to ``max_frame_size``."""
        max_size = self._limits[0]
        if len(raw) > max_size:
            return REFUSED, FrameError("too_large", max_size)
        return BINARY, BINARY_REASON

    def _missed(self, entry: Entry | None, value: Any) -> tuple[Entry, Any]:
        """What ``table.route`` returned for a frame with no handler slot:
        ``(None, (tag, payload))`` (the scan's result, so a convention
        spelling is resolved without a rescan) or a slot without a handler.
        """
        if entry is None:
            tag, payload = value
            entry = self.convention(tag)
            if entry is None:
                return UNHANDLED, UNKNOWN_TYPE
            try:
                value = entry.decode(NULL_PAYLOAD if payload is None else payload)
            except ROUTE_ERRORS as exc:
                return REFUSED, refused(exc)
        if entry.call is None:
            return UNHANDLED, UNKNOWN_TYPE
        return entry, value

    def handle(self, target: Any, ws: Any, raw: str | bytes) -> Awaitable[Any]:
        """What to await for ``raw``: its handler's call or ``target``'s fallback.

        Synchronous up to the handler call, so the receive loop awaits (or
        steps) the handler's own coroutine: no wrapper coroutine per frame.
        PERF: :meth:`resolve` inlined for the routed case (one table call,
        one attribute read); every other outcome takes ``resolve``'s own
        helpers, so there is still one definition of each step.
        """
        if not self._binary or type(raw) is not bytes:
            try:
                entry, value = self.table.route(raw)
            except ROUTE_ERRORS as exc:
                return target._fallback(ws, raw, REFUSED, refused(exc))  # type: ignore[no-any-return]
            except TypeError:
                return target._fallback(ws, raw, UNHANDLED, INVALID_JSON)  # type: ignore[no-any-return]
            if entry is not None:
                routed: Callable[[Any, Any, Any], Awaitable[Any]] | None = entry.call
                if routed is not None:
                    return routed(target, ws, value)
            entry, value = self._missed(entry, value)
        else:
            entry, value = self._binary_frame(raw)
        call = entry.call
        if call is None:
            return target._fallback(ws, raw, entry, value)  # type: ignore[no-any-return]
        return call(target, ws, value)

    def convention(self, tag: str) -> Entry | None:
        """Entry for an ``on_<snake_case(tag)>`` method (envelope format only).

        Keyed by the method's name, so nothing here depends on, or keeps,
        the client's spelling: the lookup is ``snake_case`` (linear in the
        tag) plus one dict probe in a dict fixed at class creation.
        """
        if self.schema is not None:
            return None
        return self._by_name.get(snake_case(tag))

    @classmethod
    def build(cls, resource_cls: type, extra: dict[str, HandlerInfo] | None = None) -> Dispatcher:
        """Collect decorated, added and convention handlers along the MRO.

        Per class, in MRO order from the base: handlers added to it with
        ``add_handler`` (``ADDED``), then its decorated methods; a plain
        ``async def`` that overrides a decorated method by name keeps that
        tag, with the new function (published behaviour). ``extra`` (an
        instance's own handlers) comes last.
        """
        handlers: dict[str, HandlerInfo] = {}
        conventions: dict[str, HandlerInfo] = {}
        by_name: dict[str, str] = {}  # method name -> tag of a decorated handler
        for klass in reversed(resource_cls.__mro__):
            handlers.update(vars(klass).get(ADDED, {}))
            for name, value in vars(klass).items():
                info = getattr(value, MARK, None)
                if isinstance(info, HandlerInfo):
                    handlers[info.tag] = info
                    by_name[name] = info.tag
                    continue
                if name in by_name and inspect.iscoroutinefunction(value):
                    handlers[by_name[name]] = _override(handlers[by_name[name]], value)
                if name.startswith("on_") and name not in RESERVED and inspect.isfunction(value):
                    # An on_<tag> method is a handler by convention: a plain
                    # ``def`` or a shape that cannot take a payload is a
                    # mistake reported now, naming the class and method.
                    if not inspect.iscoroutinefunction(value):
                        raise HandlerNotAsyncError(
                            f"{klass.__qualname__}.{name} handles message type {name[3:]!r} "
                            "by convention and must be declared with 'async def'"
                        )
                    conventions[name[3:]] = inspect_handler(name[3:], value, strict=True)
        handlers.update(extra or {})
        return cls(
            handlers,
            conventions,
            getattr(resource_cls, "schema", None),
            max_size=resource_cls.max_frame_size,  # type: ignore[attr-defined]
            max_depth=resource_cls.max_depth,  # type: ignore[attr-defined]
            binary_frames=getattr(resource_cls, "binary_frames", "dispatch"),
        )


#: Class attribute holding the handlers ``Class.add_handler`` registered on
#: that class (tag -> HandlerInfo); read by :meth:`Dispatcher.build`.
ADDED = "_pachinko_added_handlers"


def _override(old: HandlerInfo, fn: Any) -> HandlerInfo:
    """``old``'s tag and strictness with the overriding function ``fn``.

    The new function's own payload annotation wins; without one, the
    overridden handler's payload type is kept (the override usually copies
    the signature without repeating it).
    """
    info = inspect_handler(old.tag, fn, strict=old.strict)
    if info.payload_type is None and old.payload_type is not None:
        info = HandlerInfo(
            old.tag, fn, old.payload_type, old.strict, info.payload_param, info.positional
        )
    return info


def _spellings(name: str) -> list[str]:
    """The usual tag spellings of convention method ``on_<name>``.

    Fixed by the class's methods (at most five per method), never by
    client input; each is kept only when it really maps back to ``name``.
    """
    words = name.split("_")
    candidates = [
        name,
        ".".join(words),
        "-".join(words),
        words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]),
        "".join(w[:1].upper() + w[1:] for w in words),
    ]
    out: list[str] = []
    for spelling in candidates:
        if spelling and spelling not in out and snake_case(spelling) == name:
            out.append(spelling)
    return out

"""Message handler declaration: ``@handles_message`` and signature rules.

Everything here runs once, when a class body is executed or a handler is
added; nothing runs per message. A handler is an ``async def (self, ws,
payload)``; the decorator only validates it and tags the function, so the
method stays an ordinary function users can call and test directly.
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .exceptions import (
    DuplicateHandlerRegistrationError,
    HandlerNotAsyncError,
    HandlerSignatureError,
)

__all__ = ["HandlerInfo", "handles_message", "inspect_handler", "snake_case"]

HandlerFn = Callable[..., Awaitable[Any]]
F = TypeVar("F", bound=HandlerFn)

MARK = "__pachinko_handler__"
_NO_TYPE: Any = inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class HandlerInfo:
    """A registered handler: what it handles and how its payload decodes.

    ``payload_type`` is the payload parameter's annotation, ``None`` when it
    is missing or cannot be resolved (published: such payloads arrive as
    decoded JSON); ``payload_param`` is its name, ``positional`` whether it
    is the third positional parameter (the fast call path). ``handler`` is
    the published name of ``fn``.
    """

    tag: str
    fn: HandlerFn
    payload_type: Any
    strict: bool = True
    payload_param: str = "payload"
    positional: bool = True

    @property
    def handler(self) -> HandlerFn:
        """The handler function (published name; the same object as ``fn``)."""
        return self.fn


_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def snake_case(tag: str) -> str:
    """``sendMessage`` -> ``send_message``, ``user.typing`` -> ``user_typing``,
    ``HTTPServer`` -> ``http_server``.
    """
    text = _NON_ALNUM.sub("_", tag)
    text = _CAMEL_1.sub(r"\1_\2", text)
    text = _CAMEL_2.sub(r"\1_\2", text)
    return re.sub(r"_+", "_", text).strip("_").lower()


def _resolve_hints(fn: HandlerFn) -> dict[str, Any]:
    """Annotations resolved to objects; unresolvable strings stay strings.

    One unresolvable annotation (a forward reference to a name defined
    later) must not cost the others theirs, so on failure each is resolved
    on its own.
    """
    try:
        return typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - forward refs to names defined later
        pass
    hints: dict[str, Any] = {}
    namespace = getattr(fn, "__globals__", {})
    for name, annotation in getattr(fn, "__annotations__", {}).items():
        try:
            hints[name] = typing.get_type_hints(_Annotated(name, annotation), globalns=namespace)[
                name
            ]
        except Exception:  # noqa: BLE001 - this one stays unresolved
            hints[name] = annotation
    return hints


class _Annotated:
    """A stand-in carrying one annotation, for ``typing.get_type_hints``."""

    def __init__(self, name: str, annotation: Any) -> None:
        self.__annotations__ = {name: annotation}


def _check_callable_with_payload(
    fn: Any,
    tag: str,
    params: list[inspect.Parameter],
    positional: list[inspect.Parameter],
    chosen: inspect.Parameter,
) -> None:
    """Refuse, at registration, a handler the dispatcher could not call.

    Dispatch calls ``fn(self, ws, payload)`` or ``fn(self, ws, **{name:
    payload})``; any other parameter without a default would make every
    frame fail with a ``TypeError`` inside the connection (a 1011 close),
    which is a declaration mistake better reported once, by name.
    """
    if chosen.kind is inspect.Parameter.POSITIONAL_ONLY and chosen is not positional[2]:
        raise HandlerSignatureError(
            f"Handler {fn.__qualname__!r} for message type {tag!r} cannot take its "
            f"payload: parameter {chosen.name!r} is positional-only but not third"
        )
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    for param in params[2:]:
        if param is chosen or param.kind in variadic or param.default is not _NO_TYPE:
            continue
        raise HandlerSignatureError(
            f"Handler {fn.__qualname__!r} for message type {tag!r} cannot be called as "
            f"(self, ws, payload): parameter {param.name!r} has no default"
        )


def inspect_handler(tag: str, fn: Any, *, strict: bool = True) -> HandlerInfo:
    """Validate a handler's shape and find its payload parameter and type.

    Raises
    ------
    HandlerNotAsyncError
        ``fn`` is not an ``async def`` function.
    HandlerSignatureError
        Fewer than three parameters, or two annotated candidates for the
        payload and none named ``payload``.
    """
    if not inspect.iscoroutinefunction(fn):
        raise HandlerNotAsyncError(
            f"Handler {getattr(fn, '__qualname__', fn)!r} for message type {tag!r} "
            "must be an async function (async def)"
        )
    params = list(inspect.signature(fn).parameters.values())
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) < 3:
        raise HandlerSignatureError(
            f"Handler {fn.__qualname__!r} for message type {tag!r} must accept "
            "(self, ws, payload); it takes fewer than 3 parameters"
        )
    candidates = params[2:]
    chosen = next((p for p in candidates if p.name == "payload"), None)
    if chosen is None:
        annotated = [p for p in candidates if p.annotation is not _NO_TYPE]
        if len(annotated) > 1:
            names = ", ".join(p.name for p in annotated)
            raise HandlerSignatureError(
                f"Ambiguous payload parameter for handler {fn.__qualname__!r}: "
                f"several annotated parameters ({names}); name one 'payload'"
            )
        chosen = annotated[0] if annotated else positional[2]
    _check_callable_with_payload(fn, tag, params, positional, chosen)
    hints = _resolve_hints(fn)
    payload_type = hints.get(chosen.name)
    if isinstance(payload_type, str):  # a forward reference nothing resolves
        payload_type = None
    return HandlerInfo(
        tag=tag,
        fn=fn,
        payload_type=payload_type,
        strict=strict,
        payload_param=chosen.name,
        positional=chosen is positional[2],
    )


def handles_message(tag: str, *, strict: bool = True) -> Callable[[F], F]:
    """Mark ``async def (self, ws, payload)`` as the handler for ``tag``.

    ``strict=True`` (default) rejects unknown payload fields and wrong types;
    ``strict=False`` ignores unknown fields and allows msgspec's lax
    conversions. A second handler for the same tag in one class body raises
    :class:`DuplicateHandlerRegistrationError` at once (on every Python).
    """
    if not isinstance(tag, str):
        raise TypeError(f"message type must be a str, not {type(tag).__name__}")

    def decorate(fn: F) -> F:
        info = inspect_handler(tag, fn, strict=strict)
        # The class body being executed is the caller's frame namespace:
        # checking it here catches duplicates even when both functions share
        # a name (the second would silently replace the first otherwise).
        namespace = sys._getframe(1).f_locals
        for name, value in list(namespace.items()):
            other = getattr(value, MARK, None)
            if isinstance(other, HandlerInfo) and other.tag == tag and value is not fn:
                raise DuplicateHandlerRegistrationError(
                    f"Duplicate handler for message type {tag!r}: "
                    f"{name!r} already handles it in this class"
                )
        setattr(fn, MARK, info)
        return fn

    return decorate


# -- published import names ---------------------------------------------------
# Code written against the published API imports these from
# ``falcon_pachinko.handlers``. They are thin views over ``inspect_handler``;
# the registration path above does not use them.

from .exceptions import SignatureInspectionError  # noqa: E402

__all__ += ["Handler", "get_payload_type", "select_payload_param"]

#: A handler: ``async def (self, ws, payload)``; the return value is ignored.
Handler = Callable[[Any, Any, Any], Awaitable[None]]


def select_payload_param(sig: inspect.Signature, *, func_name: str) -> inspect.Parameter:
    """The parameter of ``sig`` that receives the payload (published helper).

    The one named ``payload``; else the single annotated one after ``ws``;
    else the third. ``HandlerSignatureError`` for fewer than three parameters
    or two annotated candidates.
    """
    params = list(sig.parameters.values())
    if len(params) < 3:
        raise HandlerSignatureError(
            f"Handler {func_name!r} must accept (self, ws, payload); "
            "it takes fewer than 3 parameters"
        )
    named = sig.parameters.get("payload")
    if named is not None:
        return named
    annotated = [p for p in params[2:] if p.annotation is not _NO_TYPE]
    if len(annotated) > 1:
        raise HandlerSignatureError(
            f"Ambiguous payload parameter for handler {func_name!r}: "
            f"several annotated parameters ({', '.join(p.name for p in annotated)})"
        )
    return annotated[0] if annotated else params[2]


def get_payload_type(func: Any) -> Any:
    """The payload annotation of handler ``func``, ``None`` when missing or
    unresolvable (published helper; validates the handler like registration).
    """
    if not inspect.iscoroutinefunction(func):
        raise HandlerNotAsyncError(
            f"Handler {getattr(func, '__qualname__', func)!r} must be an async function"
        )
    try:
        sig = inspect.signature(func)
    except ValueError as exc:
        raise SignatureInspectionError(getattr(func, "__qualname__", repr(func))) from exc
    param = select_payload_param(sig, func_name=func.__qualname__)
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - published: unresolvable annotations mean "no type"
        return None
    return hints.get(param.name)

"""Helpers that turn a call into a comparable outcome (value or error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """``("ok", value)`` or ``("err", class, kind, position)`` for one call."""
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - any exception is an outcome
        return ("err", type(exc), getattr(exc, "kind", None), getattr(exc, "position", None))

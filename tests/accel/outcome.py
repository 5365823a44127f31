"""Helpers that turn a call into a comparable outcome (value or error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def outcome(fn: Callable[..., Any], *args: Any, **options: Any) -> tuple[Any, ...]:
    """``("ok", value)`` or ``("err", class, kind, position)`` for one call.

    A ``TypeError`` is an outcome too, so a call the signature refuses
    would compare equal on both twins: the callers pass options by keyword.
    """
    try:
        return ("ok", fn(*args, **options))
    except Exception as exc:  # noqa: BLE001 - any exception is an outcome
        return ("err", type(exc), getattr(exc, "kind", None), getattr(exc, "position", None))

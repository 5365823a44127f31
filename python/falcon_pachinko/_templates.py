"""Path templates matched with Falcon's own compiled router.

Each template gets a one-route ``falcon.routing.CompiledRouter``, so path
parameters and converters (``{id:int}``, ``{ts:dt}``, ``{rest:path}``)
behave exactly as in Falcon's HTTP routes, while the WebSocket router keeps
its own contract of trying routes in registration order.
"""

from __future__ import annotations

import re
from typing import Any

from falcon.routing import CompiledRouter

__all__ = ["RouteMatcher", "canonical_path", "check_braces", "normalize_path"]

_EMPTY_PARAM = re.compile(r"{\s*(?::[^}]*)?}")


def normalize_path(path: str) -> str:
    """Add the leading ``/`` when missing."""
    return path if path.startswith("/") else "/" + path


def check_braces(template: str) -> None:
    """Refuse a template whose ``{`` and ``}`` do not pair up.

    Falcon's compiler treats a stray brace as a literal character, so
    ``/chat/{room`` would register and then match nothing: the mistake would
    only show as a 404 for every client. Field expressions never nest.
    """
    depth = 0
    for index, char in enumerate(template):
        if char == "{":
            if depth:
                raise ValueError(
                    f"Unbalanced '{{' in template {template!r} at index {index}: fields cannot nest"
                )
            depth = 1
        elif char == "}":
            if not depth:
                raise ValueError(
                    f"Unbalanced '}}' in template {template!r} at index {index}: no field is open"
                )
            depth = 0
    if depth:
        raise ValueError(f"Unbalanced '{{' in template {template!r}: field is never closed")


def canonical_path(path: str) -> str:
    """Leading ``/``, no trailing ``/`` (except the root): ``/a/`` == ``/a``."""
    path = normalize_path(path)
    return path.rstrip("/") or "/"


class _Target:
    """Placeholder resource: the compiled router only needs something to return."""

    __slots__ = ()


class RouteMatcher:
    """Full and prefix matching of one URI template."""

    __slots__ = ("_router", "template")

    def __init__(self, template: str) -> None:
        if not isinstance(template, str):
            raise TypeError("path must be a str")
        if _EMPTY_PARAM.search(template):
            raise ValueError(f"Empty parameter name in template: {template}")
        check_braces(template)
        self.template = canonical_path(template)
        self._router = CompiledRouter()
        self._router.add_route(self.template, _Target())

    def match(self, path: str) -> dict[str, Any] | None:
        """Params when ``path`` (trailing slash ignored) matches the whole template."""
        found = self._router.find(canonical_path(path))
        return None if found is None else dict(found[2])

    def match_prefixes(self, path: str) -> list[tuple[dict[str, Any], str]]:
        """Every ``(params, remainder)`` where a leading part of ``path`` matches,
        longest first; the remainder starts with ``/`` or is empty.
        """
        path = canonical_path(path)
        cuts = [len(path)] + [i for i in range(len(path) - 1, 0, -1) if path[i] == "/"]
        out: list[tuple[dict[str, Any], str]] = []
        for cut in cuts:
            found = self._router.find(path[:cut])
            if found is not None:
                out.append((dict(found[2]), path[cut:]))
        return out

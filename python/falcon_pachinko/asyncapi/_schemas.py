"""msgspec types -> AsyncAPI Schema Objects under ``components/schemas``.

msgspec writes JSON Schema 2020-12 with OpenAPI's object ``discriminator``;
an AsyncAPI 3.0 Schema Object is a superset of draft-07 whose
``discriminator`` is a plain property name. So the output is rewritten
once, here: ``prefixItems`` becomes draft-07 tuple ``items`` (plus
``additionalItems``), a discriminator object becomes its ``propertyName``,
and component names that AsyncAPI's key pattern refuses (``Box[int]``)
are renamed, with every ``$ref`` following.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

__all__ = ["REF_PREFIX", "SchemaSet", "UnsupportedType"]

REF_PREFIX = "#/components/schemas/"
_BAD_KEY = re.compile(r"[^\w.\-]+")


class UnsupportedType(TypeError):
    """A payload annotation msgspec cannot describe (documented as any JSON)."""


def _key(name: str, taken: set[str]) -> str:
    """A components key matching AsyncAPI's ``^[\\w\\d\\.\\-_]+$``, unique."""
    base = _BAD_KEY.sub("_", name).strip("_") or "Schema"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def _draft07(node: Any, names: dict[str, str]) -> Any:
    """Rewrite one msgspec schema (recursively) into AsyncAPI/draft-07 terms."""
    if isinstance(node, list):
        return [_draft07(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _draft07(value, names) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        out["$ref"] = REF_PREFIX + names.get(ref[len(REF_PREFIX) :], ref[len(REF_PREFIX) :])
    if "prefixItems" in out:
        rest = out.pop("items", True)
        out["items"] = out.pop("prefixItems")
        out["additionalItems"] = rest
    discriminator = out.get("discriminator")
    if isinstance(discriminator, dict):
        out["discriminator"] = discriminator.get("propertyName")
    return out


def accepts_none(tp: Any) -> bool:
    """Whether a payload annotation takes ``null`` (a missing payload decodes as null)."""
    if tp is Any or isinstance(tp, str):
        return True
    try:
        msgspec.convert(None, tp)
    except (msgspec.ValidationError, TypeError):
        return False
    return True


class SchemaSet:
    """Collects every type first, then asks msgspec once so names are shared.

    ``add`` returns a handle; after ``build`` the handle's schema is
    ``schema(handle)`` (usually a ``$ref``), and ``components`` holds the
    named schemas.
    """

    def __init__(self) -> None:
        self._types: list[Any] = []
        self._schemas: list[Any] = []
        self.components: dict[str, Any] = {}

    def add(self, tp: Any) -> int:
        """Register ``tp``; raises :class:`UnsupportedType` if msgspec cannot describe it."""
        if tp is not Any and not isinstance(tp, str):
            try:
                msgspec.json.schema_components([tp])
            except (TypeError, ValueError) as exc:
                raise UnsupportedType(f"{tp!r}: {exc}") from exc
        self._types.append(tp)
        return len(self._types) - 1

    def build(self) -> None:
        """Generate all schemas at once (shared components get one name)."""
        described = [t for t in self._types if t is not Any and not isinstance(t, str)]
        schemas, components = msgspec.json.schema_components(
            described, ref_template=REF_PREFIX + "{name}"
        )
        taken: set[str] = set()
        names = {name: _key(name, taken) for name in components}
        self.components = {names[n]: _draft07(s, names) for n, s in components.items()}
        found = iter(schemas)
        self._schemas = [
            {} if (t is Any or isinstance(t, str)) else _draft07(next(found), names)
            for t in self._types
        ]

    def schema(self, handle: int) -> Any:
        return self._schemas[handle]

    def resolved(self, handle: int) -> dict[str, Any] | None:
        """The component a handle's ``$ref`` points at (``None`` when inline)."""
        ref = self._schemas[handle].get("$ref") if isinstance(self._schemas[handle], dict) else None
        if not isinstance(ref, str) or not ref.startswith(REF_PREFIX):
            return None
        found = self.components.get(ref[len(REF_PREFIX) :])
        return found if isinstance(found, dict) else None

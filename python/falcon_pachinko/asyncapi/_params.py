"""Falcon URI templates -> AsyncAPI channel addresses and parameter objects.

AsyncAPI 3.0 channel addresses use plain ``{name}`` expressions, and its
Parameter Object has no ``schema`` (only ``enum``, ``default``,
``description``, ``examples`` and ``location``). So a Falcon field such as
``{item_id:int(min=1)}`` becomes ``{item_id}`` in the address, and its
converter survives as two specification extensions on the parameter:
``x-falcon-converter`` (the converter as written) and ``x-schema`` (the JSON
Schema of the converted value), plus a human ``description`` saying the same.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["TemplateField", "address_of", "parameter_object", "template_fields"]

# Falcon's own field grammar (``falcon.routing.compiled._FIELD_PATTERN``).
_FIELD = re.compile(r"{(?P<name>[^}:]*)(?::(?P<conv>[^}(]*)(?:\((?P<args>[^}]*)\))?)?}")

# Positional parameter names of Falcon's built-in converters, to bind
# ``int(2, 1, 99)`` the way Falcon's ``eval`` of the argument string does.
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "int": ("num_digits", "min", "max"),
    "float": ("min", "max", "finite"),
    "dt": ("format_string",),
    "uuid": (),
    "path": (),
    "re": ("pattern", "group"),
}
_DEFAULT_DT = "%Y-%m-%dT%H:%M:%S%z"


@dataclass(frozen=True, slots=True)
class TemplateField:
    """One ``{name[:converter[(args)]]}`` field of a URI template."""

    name: str
    converter: str | None
    argstr: str | None

    @property
    def written(self) -> str:
        """The converter as the template spells it (``int(min=1)``)."""
        if self.converter is None:
            return ""
        return self.converter if self.argstr is None else f"{self.converter}({self.argstr})"


def template_fields(template: str) -> list[TemplateField]:
    """Fields of ``template`` in order of appearance."""
    return [
        TemplateField(m["name"].strip(), (m["conv"] or "").strip() or None, m["args"])
        for m in _FIELD.finditer(template)
    ]


def address_of(template: str) -> str:
    """``/items/{item_id:int}`` -> ``/items/{item_id}`` (converters dropped)."""
    return _FIELD.sub(lambda m: "{" + m["name"].strip() + "}", template)


def _bind(converter: str, argstr: str | None) -> dict[str, Any] | None:
    """Converter arguments by name, or ``None`` when they are not plain literals.

    Falcon evaluates the argument string as Python; here only literals are
    accepted (``ast.literal_eval``), so nothing from a template is executed.
    """
    if not argstr:
        return {}
    try:
        call = ast.parse(f"f({argstr})", mode="eval").body
        assert isinstance(call, ast.Call)
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except (SyntaxError, ValueError, TypeError, AssertionError):
        return None
    names = _SIGNATURES.get(converter, ())
    if len(args) > len(names):
        return None
    return {**dict(zip(names, args, strict=False)), **kwargs}


def _converter_schema(converter: str, args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """JSON Schema of the converted value and a one-line description."""
    if converter == "int":
        schema: dict[str, Any] = {"type": "integer"}
        words = ["integer"]
        if args.get("min") is not None:
            schema["minimum"] = args["min"]
            words.append(f"minimum {args['min']}")
        if args.get("max") is not None:
            schema["maximum"] = args["max"]
            words.append(f"maximum {args['max']}")
        if args.get("num_digits") is not None:
            words.append(f"exactly {args['num_digits']} digits")
        return schema, ", ".join(words)
    if converter == "float":
        schema = {"type": "number"}
        words = ["number"]
        for key, keyword in (("min", "minimum"), ("max", "maximum")):
            if args.get(key) is not None:
                schema[keyword] = args[key]
                words.append(f"{keyword} {args[key]}")
        return schema, ", ".join(words)
    if converter == "uuid":
        return {"type": "string", "format": "uuid"}, "UUID"
    if converter == "dt":
        fmt = args.get("format_string", _DEFAULT_DT)
        schema = {"type": "string"}
        if fmt == _DEFAULT_DT:
            schema["format"] = "date-time"
        return schema, f"date/time in the strftime format {fmt!r}"
    if converter == "path":
        return {"type": "string"}, "the rest of the path (may contain '/')"
    if converter == "re" and isinstance(args.get("pattern"), str):
        return {"type": "string", "pattern": args["pattern"]}, f"matches {args['pattern']!r}"
    return {"type": "string"}, f"string accepted by the {converter!r} converter"


def parameter_object(field: TemplateField) -> dict[str, Any]:
    """The AsyncAPI Parameter Object for one template field."""
    if field.converter is None:
        return {"description": "path segment (string)", "x-schema": {"type": "string"}}
    args = _bind(field.converter, field.argstr)
    if args is None:
        schema: dict[str, Any] = {"type": "string"}
        text = f"string accepted by the converter {field.written!r}"
    else:
        schema, text = _converter_schema(field.converter, args)
    return {
        "description": f"{text} (Falcon converter `{field.written}`)",
        "x-falcon-converter": field.written,
        "x-schema": schema,
    }

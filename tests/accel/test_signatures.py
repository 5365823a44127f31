"""Every entry of both twins: data positional-only, options keyword-only.

The rule of issue 11, checked on whichever twins are present (``impl``): a
required parameter is data and is passed by position only (its name is not
part of the contract, so the twins may name it differently), and a
parameter that may be passed by name is an option and has a default. No
parameter is positional-or-keyword: a call that works on one twin cannot
fail on the other because it named, or did not name, an argument.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from falcon_pachinko import _pure

P = inspect.Parameter


def entries(mod: ModuleType) -> list[tuple[str, object]]:
    """Functions, constructors and public methods (``__contains__`` too)."""
    out: list[tuple[str, object]] = []
    for name in sorted(_pure.__all__):
        obj = getattr(mod, name)
        if inspect.isfunction(obj) or inspect.isbuiltin(obj):
            out.append((name, obj))
        elif isinstance(obj, type):
            out.append((name, obj))
            for member in sorted(vars(getattr(_pure, name))):
                if member == "__contains__" or (
                    not member.startswith("_") and callable(getattr(obj, member))
                ):
                    out.append((f"{name}.{member}", getattr(obj, member)))
    return out


def offences(fn: object, *, method: bool) -> list[str]:
    params = list(inspect.signature(fn).parameters.values())  # type: ignore[arg-type]
    if method:
        params = params[1:]  # self
    found = []
    for p in params:
        if p.kind is P.POSITIONAL_OR_KEYWORD:
            found.append(f"{p.name} is positional-or-keyword")
        elif p.kind is P.KEYWORD_ONLY and p.default is P.empty:
            found.append(f"{p.name} is a required keyword (data must be positional)")
        elif p.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
            found.append(f"{p.name} is variadic")
    return found


def test_every_entry_is_checked(impl: ModuleType) -> None:
    names = {name for name, _ in entries(impl)}
    assert {"TagTable", "TagTable.route", "scan_frame", "FanoutHub.add"} <= names
    assert {"encode_bus_frame", "decode_bus_frame", "Fanout"} <= names


def test_data_positional_only_options_keyword_only(impl: ModuleType) -> None:
    wrong = {
        name: found for name, fn in entries(impl) if (found := offences(fn, method="." in name))
    }
    assert wrong == {}

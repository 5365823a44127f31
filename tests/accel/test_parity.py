"""The native module exposes exactly the pure twin's names and signatures."""

from __future__ import annotations

import inspect

import pytest

from falcon_pachinko import _pure

_native = pytest.importorskip(
    "falcon_pachinko._native", reason="parity needs the built native module"
)

PUBLIC = sorted(_pure.__all__)


def public_names(obj: object) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")} | (
        {"__len__", "__contains__"} & set(dir(obj))
    )


def test_same_module_names_and_abi() -> None:
    for name in PUBLIC:
        assert hasattr(_native, name), name
    assert _native.ACCEL_ABI == _pure.ACCEL_ABI


@pytest.mark.parametrize("name", ["TagTable", "Fanout", "FanoutHub"])
def test_same_class_members(name: str) -> None:
    assert public_names(getattr(_native, name)) == public_names(getattr(_pure, name))


def shape(fn: object) -> list[tuple[str, object, object]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def test_same_function_signatures() -> None:
    assert shape(_native.scan_frame) == shape(_pure.scan_frame)


@pytest.mark.parametrize(
    "name, method",
    [
        (c, m)
        for c in ("TagTable", "Fanout", "FanoutHub")
        for m in dir(getattr(_pure, c))
        if not m.startswith("_")
    ],
)
def test_same_method_signatures(name: str, method: str) -> None:
    native = getattr(getattr(_native, name), method)
    pure = getattr(getattr(_pure, name), method)
    if callable(pure):
        assert shape(native)[1:] == shape(pure)[1:] or shape(native) == shape(pure)

"""The native module exposes exactly the pure twin's names and signatures,
constructors, properties and their read-only-ness, and constants.
"""

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


FUNCTIONS = [n for n in PUBLIC if inspect.isfunction(getattr(_pure, n))]


def test_every_function_is_compared() -> None:
    assert set(FUNCTIONS) == {"scan_frame", "encode_bus_frame", "decode_bus_frame"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_same_function_signatures(name: str) -> None:
    assert shape(getattr(_native, name)) == shape(getattr(_pure, name))


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


CLASSES = ["TagTable", "Fanout", "FanoutHub"]


def instances(mod: object) -> dict[str, object]:
    """One instance of each class, built the same way from either twin."""
    return {
        "TagTable": mod.TagTable({"a": 0}),  # type: ignore[attr-defined]
        "Fanout": mod.Fanout(1, 0, [], [], [], []),  # type: ignore[attr-defined]
        "FanoutHub": mod.FanoutHub(capacity=2),  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("name", CLASSES)
def test_same_constructor_signatures(name: str) -> None:
    assert shape(getattr(_native, name)) == shape(getattr(_pure, name))


def properties(cls: type) -> set[str]:
    return {
        n
        for n in dir(cls)
        if not n.startswith("_") and inspect.isdatadescriptor(inspect.getattr_static(cls, n))
    }


@pytest.mark.parametrize("name", CLASSES)
def test_same_properties_and_all_read_only(name: str) -> None:
    native_cls, pure_cls = getattr(_native, name), getattr(_pure, name)
    assert properties(native_cls) == properties(pure_cls)
    assert properties(native_cls), f"{name} has no properties to compare"
    native, pure = instances(_native)[name], instances(_pure)[name]
    for prop in properties(native_cls):
        assert getattr(native, prop) == getattr(pure, prop), prop
        for obj in (native, pure):
            with pytest.raises(AttributeError):
                setattr(obj, prop, getattr(obj, prop))
            with pytest.raises(AttributeError):
                delattr(obj, prop)


@pytest.mark.parametrize("name", CLASSES)
def test_neither_twin_takes_new_attributes(name: str) -> None:
    for obj in (instances(_native)[name], instances(_pure)[name]):
        with pytest.raises(AttributeError):
            obj.extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["ACCEL_ABI", "DEFAULT_CAPACITY", "POLICIES", "STATES"])
def test_same_constants(name: str) -> None:
    assert getattr(_native, name) == getattr(_pure, name)
    assert type(getattr(_native, name)) is type(getattr(_pure, name))

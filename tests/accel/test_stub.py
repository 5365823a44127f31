"""``_native.pyi`` kept honest against the pure twin.

``mypy.stubtest`` holds the stub to the compiled module; this test holds it
to ``_pure``, so the three copies of the contract (stub, native, pure) cannot
drift apart: every public name of the stub exists in the pure twin, with the
same parameters (names, kinds positional-only / keyword-only, defaults),
every stub property is a read-only property there, and every constant has
the annotated type. It needs no native build: it runs on a pure-only
machine too.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

from falcon_pachinko import _pure

STUB = Path(_pure.__file__).with_name("_native.pyi")
TREE = ast.parse(STUB.read_text(encoding="utf-8"))

Shape = list[tuple[str, Any, object]]


def stub_all() -> list[str]:
    for node in TREE.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__":
            return list(ast.literal_eval(node.value))
    raise AssertionError("the stub has no __all__")


def is_property(fn: ast.FunctionDef) -> bool:
    return any(getattr(d, "id", None) == "property" for d in fn.decorator_list)


def stub_shape(fn: ast.FunctionDef, *, drop_first: bool) -> Shape:
    """``(name, kind, default)`` per parameter, as ``inspect`` reports them."""
    args = fn.args
    positional = [(a, inspect.Parameter.POSITIONAL_ONLY) for a in args.posonlyargs] + [
        (a, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in args.args
    ]
    defaults: list[object] = [inspect.Parameter.empty] * (len(positional) - len(args.defaults)) + [
        ast.literal_eval(d) for d in args.defaults
    ]
    shape: Shape = [
        (a.arg, kind, default) for (a, kind), default in zip(positional, defaults, strict=True)
    ]
    if args.vararg is not None:
        shape.append((args.vararg.arg, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.empty))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        default = inspect.Parameter.empty if d is None else ast.literal_eval(d)
        shape.append((a.arg, inspect.Parameter.KEYWORD_ONLY, default))
    if args.kwarg is not None:
        shape.append((args.kwarg.arg, inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty))
    return shape[1:] if drop_first else shape


def runtime_shape(fn: Any, *, drop_first: bool) -> Shape:
    params = list(inspect.signature(fn).parameters.values())
    shape = [(p.name, p.kind, p.default) for p in params]
    return shape[1:] if drop_first else shape


def positional_names_free(shape: Shape) -> list[tuple[Any, object]] | Shape:
    """Positional-only parameters are matched by place, not by name."""
    return [
        (
            ("", kind, default)
            if kind is inspect.Parameter.POSITIONAL_ONLY
            else (name, kind, default)
        )
        for name, kind, default in shape
    ]


FUNCTIONS = [n for n in TREE.body if isinstance(n, ast.FunctionDef)]
CLASSES = [n for n in TREE.body if isinstance(n, ast.ClassDef)]
CONSTANTS = [n for n in TREE.body if isinstance(n, ast.AnnAssign)]
METHODS = [
    (cls.name, fn)
    for cls in CLASSES
    for fn in cls.body
    if isinstance(fn, ast.FunctionDef) and not is_property(fn) and fn.name != "__new__"
]
PROPERTIES = [
    (cls.name, fn.name)
    for cls in CLASSES
    for fn in cls.body
    if isinstance(fn, ast.FunctionDef) and is_property(fn)
]


def test_the_stub_names_exactly_the_pure_twins_names() -> None:
    assert sorted(stub_all()) == sorted(_pure.__all__)
    declared = {getattr(n, "name", None) for n in FUNCTIONS + CLASSES}
    declared |= {n.target.id for n in CONSTANTS if isinstance(n.target, ast.Name)}
    assert declared == set(_pure.__all__)


@pytest.mark.parametrize("node", CONSTANTS, ids=lambda n: ast.unparse(n.target))
def test_constants_have_the_annotated_type(node: ast.AnnAssign) -> None:
    value = getattr(_pure, ast.unparse(node.target))
    annotation = ast.unparse(node.annotation)
    if annotation == "int":
        assert type(value) is int
    elif annotation == "tuple[str, ...]":
        assert type(value) is tuple and all(type(x) is str for x in value) and value
    else:  # pragma: no cover - a new kind of constant needs a rule here
        pytest.fail(f"no check for a constant annotated {annotation}")


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.name)
def test_functions_have_the_stub_signature(fn: ast.FunctionDef) -> None:
    pure = getattr(_pure, fn.name)
    assert runtime_shape(pure, drop_first=False) == stub_shape(fn, drop_first=False)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_classes_have_the_stub_members_and_constructor(cls: ast.ClassDef) -> None:
    pure = getattr(_pure, cls.name)
    declared = {fn.name for fn in cls.body if isinstance(fn, ast.FunctionDef)} - {"__new__"}
    public = {n for n in dir(pure) if not n.startswith("_")}
    assert public <= declared, f"{cls.name} has members the stub does not declare"
    assert declared <= set(dir(pure)), f"{cls.name} lacks members the stub declares"
    new = next(fn for fn in cls.body if isinstance(fn, ast.FunctionDef) and fn.name == "__new__")
    assert positional_names_free(runtime_shape(pure, drop_first=False)) == positional_names_free(
        stub_shape(new, drop_first=True)
    )


@pytest.mark.parametrize(("cls", "fn"), METHODS, ids=[f"{c}.{f.name}" for c, f in METHODS])
def test_methods_have_the_stub_signature(cls: str, fn: ast.FunctionDef) -> None:
    pure = getattr(getattr(_pure, cls), fn.name)
    assert positional_names_free(runtime_shape(pure, drop_first=True)) == positional_names_free(
        stub_shape(fn, drop_first=True)
    )


@pytest.mark.parametrize(("cls", "name"), PROPERTIES, ids=[f"{c}.{n}" for c, n in PROPERTIES])
def test_properties_are_read_only_properties(cls: str, name: str) -> None:
    attribute = inspect.getattr_static(getattr(_pure, cls), name)
    assert isinstance(attribute, property), f"{cls}.{name} is not a property"
    assert attribute.fset is None and attribute.fdel is None, f"{cls}.{name} is writable"

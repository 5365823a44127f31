"""The one seam between the native module and its pure-Python twin.

Chosen once, at import, from ``FALCON_PACHINKO_IMPL``:

* unset or ``auto``: the native module when it imports and its ``ACCEL_ABI``
  matches the pure twin's, else the pure twin;
* ``native``: the native module or ``ImportError`` (missing or stale build);
* ``pure``: the pure twin; ``_native`` is never imported.

Nothing else in the package imports ``_native`` or ``_pure``; call sites use
``_accel.<name>``.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from . import _pure

__all__ = [
    "ACCEL_ABI",
    "BUS_KINDS",
    "DEFAULT_CAPACITY",
    "IMPLEMENTATION",
    "POLICIES",
    "STATES",
    "Fanout",
    "FanoutHub",
    "TagTable",
    "decode_bus_frame",
    "encode_bus_frame",
    "scan_frame",
]

ENV_VAR = "FALCON_PACHINKO_IMPL"
ALLOWED = ("auto", "native", "pure")


NOT_INSTALLED = (
    "FALCON_PACHINKO_IMPL=native was requested, but the native extension "
    "(falcon_pachinko._native) is not installed: this is the pure-Python build of "
    "falcon-pachinko (the py3-none-any wheel, or an sdist built without a Rust "
    "toolchain or with FALCON_PACHINKO_PURE=1). Install a native wheel "
    "(pip install --force-reinstall --only-binary=falcon-pachinko falcon-pachinko), "
    "build from source with a Rust toolchain on PATH, or set FALCON_PACHINKO_IMPL "
    "to auto or pure"
)


def _load_native() -> ModuleType:
    # NOTE: not ``from . import _native``: while the package itself is still
    # importing, a missing submodule makes that statement report a "partially
    # initialized module ... circular import", which sends users hunting for a
    # cycle that does not exist. ``import_module`` raises ModuleNotFoundError
    # naming the submodule, which we turn into the real reason.
    try:
        _native = importlib.import_module(f"{__package__}._native")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}._native":
            raise  # something the extension itself imports is missing
        raise ModuleNotFoundError(NOT_INSTALLED, name=exc.name) from exc

    abi = getattr(_native, "ACCEL_ABI", None)
    if abi != _pure.ACCEL_ABI:
        raise ImportError(
            f"falcon_pachinko._native has ACCEL_ABI={abi!r} but the Python package "
            f"expects {_pure.ACCEL_ABI}: the native module is stale; rebuild it"
        )
    return _native


def _choose() -> tuple[ModuleType, Literal["native", "pure"]]:
    requested = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if requested not in ALLOWED:
        raise ValueError(
            f"{ENV_VAR}={os.environ.get(ENV_VAR)!r} is not valid; "
            f"allowed values: {', '.join(ALLOWED)}"
        )
    if requested == "pure":
        return _pure, "pure"
    if requested == "native":
        return _load_native(), "native"
    try:
        return _load_native(), "native"
    except ImportError:
        return _pure, "pure"


_impl, _chosen = _choose()
IMPLEMENTATION: Literal["native", "pure"] = _chosen
"""Which implementation serves the hot paths, chosen once at import (``FALCON_PACHINKO_IMPL``)."""

if TYPE_CHECKING:
    from ._pure import (
        ACCEL_ABI,
        DEFAULT_CAPACITY,
        POLICIES,
        STATES,
        Fanout,
        FanoutHub,
        TagTable,
        scan_frame,
    )
    from ._pure_bus import BUS_KINDS, decode_bus_frame, encode_bus_frame
else:
    ACCEL_ABI = _impl.ACCEL_ABI
    DEFAULT_CAPACITY = _impl.DEFAULT_CAPACITY
    POLICIES = _impl.POLICIES
    STATES = _impl.STATES
    Fanout = _impl.Fanout
    FanoutHub = _impl.FanoutHub
    TagTable = _impl.TagTable
    scan_frame = _impl.scan_frame
    BUS_KINDS = _impl.BUS_KINDS
    encode_bus_frame = _impl.encode_bus_frame
    decode_bus_frame = _impl.decode_bus_frame

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

import os
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from . import _pure

__all__ = [
    "ACCEL_ABI",
    "BUS_KINDS",
    "IMPLEMENTATION",
    "FanoutHub",
    "TagTable",
    "decode_bus_frame",
    "encode_bus_frame",
    "scan_frame",
]

ENV_VAR = "FALCON_PACHINKO_IMPL"
ALLOWED = ("auto", "native", "pure")


def _load_native() -> ModuleType:
    from . import _native

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


_impl, IMPLEMENTATION = _choose()

if TYPE_CHECKING:
    from ._pure import ACCEL_ABI, FanoutHub, TagTable, scan_frame
    from ._pure_bus import BUS_KINDS, decode_bus_frame, encode_bus_frame
else:
    ACCEL_ABI = _impl.ACCEL_ABI
    FanoutHub = _impl.FanoutHub
    TagTable = _impl.TagTable
    scan_frame = _impl.scan_frame
    BUS_KINDS = _impl.BUS_KINDS
    encode_bus_frame = _impl.encode_bus_frame
    decode_bus_frame = _impl.decode_bus_frame

"""Pure-Python twin of the native module: the specification.

Every function and class here has exactly one native counterpart in
``src-rust/`` with the same name, signature, results and exception classes.
The native module adds speed, never behaviour; the contract suite in
``tests/accel/`` runs against both and the differential tests hold the two
equal. Only ``_accel`` imports this module.

This module is glue only, as ``lib.rs`` is; the twins are cut as the Rust
files are (core vs binding)::

    _pure_frame.py   frame.rs        JSON frame scan (core)
    _pure_lookup.py  lookup.rs       scan_frame, TagTable (binding)
    _pure_fanout.py  fanout.rs       membership, states, outboxes (core)
    _pure_hub.py     hub.rs          FanoutHub, Fanout (binding)
    _pure_bus.py     bus.rs + bus_binding.rs   the bus codec
"""

from __future__ import annotations

from ._pure_bus import BUS_KINDS, decode_bus_frame, encode_bus_frame
from ._pure_fanout import DEFAULT_CAPACITY, POLICIES, STATES
from ._pure_hub import Fanout, FanoutHub
from ._pure_lookup import TagTable, scan_frame

__all__ = [
    "ACCEL_ABI",
    "BUS_KINDS",
    "DEFAULT_CAPACITY",
    "POLICIES",
    "STATES",
    "Fanout",
    "FanoutHub",
    "TagTable",
    "decode_bus_frame",
    "encode_bus_frame",
    "scan_frame",
]

#: Bumped whenever the native contract changes (``lib.rs`` ``ACCEL_ABI``):
#: ``_accel`` refuses a native module whose ABI differs from this one.
ACCEL_ABI = 3

"""pytest plugin (entry point ``falcon_pachinko``), installed with the package.

Fixtures
--------
websocket_simulator
    A fresh :class:`~falcon_pachinko.testing.SimulatorRouterHarness` (router
    mounted at ``/``, connection manager installed), as published.
simulator_harness
    The same fixture under this package's earlier name.

Importing this module without pytest installed leaves the plain generator
functions, so ``falcon_pachinko.testing.websocket_simulator`` never requires
pytest at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .harness import SimulatorRouterHarness

__all__ = ["simulator_harness", "websocket_simulator"]


def _harness() -> Iterator[SimulatorRouterHarness]:
    """A fresh harness per test."""
    yield SimulatorRouterHarness()


def _harness_alias() -> Iterator[SimulatorRouterHarness]:
    """``simulator_harness``: a separate function, as pytest marks each fixture's own."""
    yield SimulatorRouterHarness()


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is absent only outside tests
    websocket_simulator: Any = _harness
    simulator_harness: Any = _harness_alias
else:
    websocket_simulator = pytest.fixture(_harness, name="websocket_simulator")
    simulator_harness = pytest.fixture(_harness_alias, name="simulator_harness")

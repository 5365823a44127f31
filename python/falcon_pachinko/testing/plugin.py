"""pytest plugin (entry point ``falcon_pachinko``), installed with the package.

Fixtures
--------
websocket_simulator
    A fresh :class:`~falcon_pachinko.testing.WebSocketSimulator`.
simulator_harness
    A fresh :class:`~falcon_pachinko.testing.SimulatorRouterHarness` (router
    mounted at ``/``, connection manager installed).
"""

from __future__ import annotations

import pytest

from .harness import SimulatorRouterHarness
from .simulator import WebSocketSimulator


@pytest.fixture
def websocket_simulator() -> WebSocketSimulator:
    return WebSocketSimulator()


@pytest.fixture
def simulator_harness() -> SimulatorRouterHarness:
    return SimulatorRouterHarness()

"""Testing utilities for falcon-pachinko applications.

``WebSocketSimulator`` and ``SimulatorRouterHarness`` run resources in
memory through the real router; ``WebSocketTestClient`` talks to a real
server. The pytest plugin (entry point ``falcon_pachinko``) provides the
``websocket_simulator`` and ``simulator_harness`` fixtures.
"""

from __future__ import annotations

from .client import TraceEvent, WebSocketSession, WebSocketTestClient
from .harness import SimulatorConnection, SimulatorRouterHarness
from .simulator import WebSocketSimulator

__all__ = [
    "SimulatorConnection",
    "SimulatorRouterHarness",
    "TraceEvent",
    "WebSocketSession",
    "WebSocketSimulator",
    "WebSocketTestClient",
]

"""Testing utilities for falcon-pachinko applications.

``WebSocketSimulator`` and ``SimulatorRouterHarness`` run resources in
memory through the real router; ``WebSocketTestClient`` talks to a real
server. The pytest plugin (entry point ``falcon_pachinko``) provides the
``websocket_simulator`` fixture (a harness, as published) and its alias
``simulator_harness``; ``websocket_simulator`` is importable from here too,
loaded on first access so that importing this package never needs pytest.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import MissingDependencyError
from .client import TraceEvent, WebSocketSession, WebSocketTestClient
from .harness import SimulatorConnection, SimulatorRouterHarness
from .simulator import WebSocketSimulator

__all__ = [
    "MissingDependencyError",
    "SimulatorConnection",
    "SimulatorRouterHarness",
    "TraceEvent",
    "WebSocketSession",
    "WebSocketSimulator",
    "WebSocketTestClient",
    "websocket_simulator",
]


def __getattr__(name: str) -> Any:
    if name == "websocket_simulator":
        from .plugin import websocket_simulator

        return websocket_simulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

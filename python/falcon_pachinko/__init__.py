"""falcon-pachinko: WebSocket routing, dispatch, rooms and workers for Falcon ASGI.

``IMPLEMENTATION`` says whether the native extension (``"native"``) or the
pure-Python twin (``"pure"``) serves the hot paths; see ``_accel``.
``__version__`` is the installed distribution's version: pyproject.toml is
the one place it is written.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from ._accel import IMPLEMENTATION
from .app import connection_manager, install
from .backends import ConnectionBackend, InProcessBackend
from .delivery import DeliveryResult
from .di import ResourceFactory, ServiceContainer
from .exceptions import (
    DuplicateHandlerRegistrationError,
    FrameError,
    HandlerNotAsyncError,
    HandlerSignatureError,
    LimitExceededError,
    MissingDependencyError,
    ServiceNotFoundError,
    WebSocketConnectionNotFoundError,
)
from .handlers import handles_message
from .hooks import HookCollection, HookContext, HookEvent, HookManager
from .lifespan import lifespan
from .manager import WebSocketConnectionManager
from .protocols import WebSocketLike
from .resource import WebSocketResource
from .router import WebSocketRouter
from .testing import (
    SimulatorConnection,
    SimulatorRouterHarness,
    TraceEvent,
    WebSocketSimulator,
    WebSocketTestClient,
)
from .workers import WorkerController, worker

try:
    __version__: str = _dist_version("falcon-pachinko")
except PackageNotFoundError:  # pragma: no cover - a source tree on PYTHONPATH, not installed
    __version__ = "0+unknown"

__all__ = [
    "IMPLEMENTATION",
    "ConnectionBackend",
    "DeliveryResult",
    "DuplicateHandlerRegistrationError",
    "FrameError",
    "HandlerNotAsyncError",
    "HandlerSignatureError",
    "HookCollection",
    "HookContext",
    "HookEvent",
    "HookManager",
    "InProcessBackend",
    "LimitExceededError",
    "MissingDependencyError",
    "ResourceFactory",
    "ServiceContainer",
    "ServiceNotFoundError",
    "SimulatorConnection",
    "SimulatorRouterHarness",
    "TraceEvent",
    "WebSocketConnectionManager",
    "WebSocketConnectionNotFoundError",
    "WebSocketLike",
    "WebSocketResource",
    "WebSocketRouter",
    "WebSocketSimulator",
    "WebSocketTestClient",
    "WorkerController",
    "connection_manager",
    "handles_message",
    "install",
    "lifespan",
    "worker",
]

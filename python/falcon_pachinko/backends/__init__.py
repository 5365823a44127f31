"""Connection backends: where membership lives (one process or many)."""

from __future__ import annotations

from .base import ConnectionBackend
from .memory import InProcessBackend

__all__ = ["ConnectionBackend", "InProcessBackend"]

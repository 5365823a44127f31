"""falcon-pachinko."""

from __future__ import annotations

from ._accel import IMPLEMENTATION

__all__ = ["IMPLEMENTATION"]

"""The ``impl`` fixture: one contract suite, run against each twin.

PEP 399 / markupsafe style: every contract test takes ``impl`` (the pure or
the native module) and must pass for both. The native row is skipped when
the extension is not built, except when ``FALCON_PACHINKO_IMPL=native``
demands it: then a missing extension fails the row.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

#: ``FALCON_PACHINKO_HYPOTHESIS=slow`` (set by ``make fuzz``, which bounds the
#: run with FUZZ_SECONDS) turns the soak tests into long differential runs.
settings.register_profile(
    "slow", max_examples=10_000_000, deadline=None, suppress_health_check=list(HealthCheck)
)
if os.environ.get("FALCON_PACHINKO_HYPOTHESIS") == "slow":
    settings.load_profile("slow")


@pytest.fixture(params=["pure", "native"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "pure":
        return importlib.import_module("falcon_pachinko._pure")
    try:
        return importlib.import_module("falcon_pachinko._native")
    except ImportError:
        if os.environ.get("FALCON_PACHINKO_IMPL") == "native":
            raise
        pytest.skip("the native extension is not built")

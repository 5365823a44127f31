"""roundtrip/echo: the framework's own cost per round trip, in process.

``benches/e2e_apps.py``'s echo servers (this library native and pure, the
hand-written Falcon app, a bare ASGI app) answer 5,000 frames, each handed
over in a later event-loop turn than the answer before it: what uvicorn's
``receive`` does when each client waits for its answer (the 50-client
end-to-end phase), so every frame pays a suspension of the app's receive,
without the sockets, the WebSocket parser and the kernel that the
end-to-end figures add on top, equally for every server. The difference
between a row and ``bare`` is what the framework costs per round trip.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tests.support.asgi import ping_pong

from falcon_pachinko import _accel, _native, _pure

from .e2e_apps import APPS, EchoResource
from .test_dispatch_bench import use_table

N = 5000
FRAME = json.dumps({"type": "echo", "payload": {"text": "hello there"}})
# label -> (app in e2e_apps, the library's implementation)
CASES: dict[str, tuple[str, Any]] = {"native": ("package", _native), "pure": ("package", _pure),
         "floor": ("falcon", None), "bare": ("asgi", None)}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_roundtrip_cost(benchmark: Any, case: str) -> None:
    app_name, impl = CASES[case]
    if impl is not None:
        use_table(EchoResource, impl)
    benchmark.group = f"roundtrip/echo ({N} round trips/connection)"
    benchmark.name = case
    app = APPS[app_name]()
    loop = asyncio.new_event_loop()
    answers: list[int] = []
    try:

        def run() -> None:
            answers.append(loop.run_until_complete(ping_pong(app, "/ws/echo", FRAME, N)))

        benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=1)
    finally:
        loop.close()
        use_table(EchoResource, _accel)  # the active implementation again
    assert answers and set(answers) == {N}  # every round trip answered, every run

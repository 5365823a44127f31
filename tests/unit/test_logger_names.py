"""The logger names operators configure are the ones the code logs to.

The README's logger table tells operators to configure
``falcon_pachinko.dispatch`` and ``falcon_pachinko.connection``. The modules
doing that logging are internal (``_dispatch``, ``_connection``, ...), so the
names are spelled out in the code rather than taken from ``__name__``: a
rename must not silently move the records to a logger nobody configured.
These tests attach a handler to the documented logger itself (what an
operator does) and drive a real frame and a real close through the router.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import falcon_pachinko as fp
from falcon_pachinko.testing import SimulatorRouterHarness

README = Path(__file__).resolve().parents[2] / "README.md"


def documented_loggers() -> set[str]:
    """Logger names in the README's table (between the logging snippet marks)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("[start:logging]", 1)[1].split("[end:logging]", 1)[0]
    return set(re.findall(r"^\| `(falcon_pachinko[.\w]*)` \|", section, flags=re.MULTILINE))


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def configured() -> Iterator[dict[str, _Collect]]:
    """A handler on each documented logger, at DEBUG, as an operator sets it up."""
    handlers: dict[str, _Collect] = {}
    saved: list[tuple[logging.Logger, int]] = []
    for name in ("falcon_pachinko.dispatch", "falcon_pachinko.connection"):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        handlers[name] = _Collect()
        logger.addHandler(handlers[name])
    try:
        yield handlers
    finally:
        for logger, level in saved:
            logger.setLevel(level)
        for name, handler in handlers.items():
            logging.getLogger(name).removeHandler(handler)


class Echo(fp.WebSocketResource):
    async def on_ping(self, ws: Any, payload: Any) -> None:
        await ws.send_media({"type": "pong"})


def test_the_readme_documents_both_names() -> None:
    assert {"falcon_pachinko.dispatch", "falcon_pachinko.connection"} <= documented_loggers()


async def test_unknown_frames_and_closes_reach_the_documented_loggers(
    configured: dict[str, _Collect],
) -> None:
    harness = SimulatorRouterHarness()
    harness.router.add_route("/echo", Echo)
    async with harness.connect("/echo") as conn:
        await conn.push_json({"type": "nobody-handles-this"})
        await conn.push_json({"type": "ping"})
        assert await conn.receive_json() == {"type": "pong"}
        await conn.close()

    dispatched = configured["falcon_pachinko.dispatch"].records
    assert [r.name for r in dispatched] == ["falcon_pachinko.dispatch"]
    assert "reason=unknown_type" in dispatched[0].getMessage()

    connection = configured["falcon_pachinko.connection"].records
    messages = [r.getMessage() for r in connection]
    assert any(m.startswith("connection accepted") for m in messages), messages
    assert any(m.startswith("connection closed") for m in messages), messages
    assert {r.name for r in connection} == {"falcon_pachinko.connection"}
    assert {r.name for r in dispatched + connection} <= documented_loggers()


@pytest.mark.parametrize("old", ["dispatch", "connection", "senders", "routing"])
def test_internal_modules_have_no_public_path(old: str) -> None:
    """Renamed private (issue 11): no shim is left at the old path, so a
    logger name is the only ``falcon_pachinko.dispatch``/``.connection``.
    """
    assert importlib.util.find_spec(f"falcon_pachinko.{old}") is None

"""``python -m falcon_pachinko asyncapi`` in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..support.asyncapi import assert_valid_document

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests.integration.asyncapi_app"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "falcon_pachinko", "asyncapi", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
        check=False,
    )


def addresses(doc: dict[str, Any]) -> list[str]:
    return [c["address"] for c in doc["channels"].values()]


@pytest.mark.parametrize("target", [f"{TARGET}:app", f"{TARGET}:create_app"])
def test_json_by_default_from_an_app_or_a_factory(target: str) -> None:
    result = run(target)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert_valid_document(doc)
    assert addresses(doc) == ["/ws/rooms/{room}", "/ws/items/{item_id}"]
    assert doc["info"] == {"title": "WebSocket API", "version": "1.0.0"}


def test_yaml_format_and_info_options() -> None:
    result = run(f"{TARGET}:create_app", "--format", "yaml", "--title", "Rooms", "--version", "3")
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    assert_valid_document(doc)
    assert doc["info"] == {"title": "Rooms", "version": "3"}
    assert json.loads(run(f"{TARGET}:app", "--title", "Rooms", "--version", "3").stdout) == doc


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.integration.asyncapi_app", "must look like 'module:app'"),
        ("no_such_module_xyz:app", "cannot import module 'no_such_module_xyz'"),
        (f"{TARGET}:missing", "has no attribute 'missing'"),
        (f"{TARGET}:not_an_app", "not a Falcon app or a factory"),
        (f"{TARGET}:broken_factory", "broken_factory() failed: RuntimeError: no database"),
        (f"{TARGET}:Said", "failed: TypeError"),
    ],
)
def test_bad_targets_exit_2_with_a_message(target: str, message: str) -> None:
    result = run(target)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_format_is_a_usage_error() -> None:
    result = run(f"{TARGET}:app", "--format", "xml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr

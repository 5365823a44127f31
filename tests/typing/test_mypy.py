"""The documented code type-checks under ``mypy --strict`` (DESIGN §6.5).

One mypy run over the README's checked snippets (extracted as a reader would
copy them), ``examples/`` and ``patterns.py``. A failure prints mypy's own
report, so the offending line is named.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .readme import CHECKED_SECTIONS, ROOT, write_blocks


def test_readme_examples_and_patterns_pass_mypy_strict(tmp_path: Path) -> None:
    snippets = write_blocks(tmp_path)
    assert len(snippets) == len(CHECKED_SECTIONS)
    targets = [*map(str, snippets), "examples", "tests/typing/patterns.py"]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "pyproject.toml", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    assert "Success: no issues found" in report

"""FALCON_PACHINKO_IMPL selects the implementation once, loudly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import falcon_pachinko

PROBE = (
    "import sys, falcon_pachinko as fp; "
    "print(fp.IMPLEMENTATION, 'falcon_pachinko._native' in sys.modules)"
)


def run(
    value: str | None, *, cwd: Path | None = None, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("FALCON_PACHINKO_IMPL", None)
    if value is not None:
        env["FALCON_PACHINKO_IMPL"] = value
    if path is not None:
        env["PYTHONPATH"] = path
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_canary_requested_implementation_is_loaded() -> None:
    """Fails the native pass if it silently fell back to pure."""
    requested = os.environ.get("FALCON_PACHINKO_IMPL", "auto").strip().lower() or "auto"
    expected = {"native", "pure"} if requested == "auto" else {requested}
    assert falcon_pachinko.IMPLEMENTATION in expected


def test_pure_never_imports_native() -> None:
    proc = run("pure")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["pure", "False"]


def test_bogus_value_names_allowed_values() -> None:
    proc = run("bogus")
    assert proc.returncode != 0
    assert "ValueError" in proc.stderr
    assert "auto, native, pure" in proc.stderr


def test_auto_and_native_pick_native_when_built() -> None:
    pytest.importorskip("falcon_pachinko._native")
    for value in (None, "auto", "native", " Native "):
        assert run(value).stdout.split() == ["native", "True"], value


def test_native_without_module_is_import_error(tmp_path: Path) -> None:
    """A copy of the package with the compiled module removed."""
    src = Path(falcon_pachinko.__file__).parent
    shutil.copytree(
        src, tmp_path / "falcon_pachinko", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    proc = run("native", cwd=tmp_path, path=str(tmp_path))
    assert proc.returncode != 0
    assert "ModuleNotFoundError" in proc.stderr
    # The reason and the remedy, not Python's "partially initialized module
    # ... circular import" that a bare ``from . import _native`` gives.
    assert "the native extension (falcon_pachinko._native) is not installed" in proc.stderr
    assert "circular import" not in proc.stderr
    assert "FALCON_PACHINKO_IMPL" in proc.stderr and "Rust toolchain" in proc.stderr
    auto = run("auto", cwd=tmp_path, path=str(tmp_path))
    assert auto.stdout.split() == ["pure", "False"]


def test_stale_native_module_is_refused(tmp_path: Path) -> None:
    src = Path(falcon_pachinko.__file__).parent
    pkg = tmp_path / "falcon_pachinko"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    (pkg / "_native.py").write_text("ACCEL_ABI = -1\n")
    proc = run("native", cwd=tmp_path, path=str(tmp_path))
    assert proc.returncode != 0 and "stale" in proc.stderr
    assert run("auto", cwd=tmp_path, path=str(tmp_path)).stdout.split()[0] == "pure"


def test_broken_native_module_is_not_called_missing(tmp_path: Path) -> None:
    """A native module that exists but fails to import keeps its own error."""
    src = Path(falcon_pachinko.__file__).parent
    pkg = tmp_path / "falcon_pachinko"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    (pkg / "_native.py").write_text("import falcon_pachinko_missing_dependency\n")
    proc = run("native", cwd=tmp_path, path=str(tmp_path))
    assert proc.returncode != 0
    assert "No module named 'falcon_pachinko_missing_dependency'" in proc.stderr
    assert "is not installed: this is the pure-Python build" not in proc.stderr

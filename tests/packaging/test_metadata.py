"""What a user sees of the package before importing it: version, metadata, wheel.

The pure wheel is built once per session from the tree (through the same
in-tree backend an sdist uses without Rust) and read as a zip; the native
wheel and the fresh-venv installs are checked by ``make wheel-test``
(``scripts/check_wheels.py``), which is too slow for this suite.
"""

from __future__ import annotations

import email
import email.message
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import falcon_pachinko

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
sys.path.insert(0, str(ROOT / "scripts"))
import pachinko_build  # noqa: E402


@pytest.fixture(scope="module")
def pure_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    return out / pachinko_build.build_pure_wheel(str(out), root=ROOT)


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(zf.read(name))


def test_version_has_one_source() -> None:
    version = PYPROJECT["project"]["version"]
    assert falcon_pachinko.__version__ == version
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    assert cargo == version, "Cargo.toml's version must follow pyproject.toml's"


def test_pure_wheel_metadata(pure_wheel: Path) -> None:
    assert pure_wheel.name.endswith("-py3-none-any.whl")
    meta = _metadata(pure_wheel)
    assert meta["Version"] == falcon_pachinko.__version__
    assert meta["Summary"].endswith("(pure-Python build)")
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"redis", "testing"} <= extras
    requires = meta.get_all("Requires-Dist") or []
    assert any(r.startswith("websockets") and 'extra == "testing"' in r for r in requires)
    assert any(r.startswith("redis") and 'extra == "redis"' in r for r in requires)
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= urls.keys()
    assert "Typing :: Typed" in (meta.get_all("Classifier") or [])
    assert meta["License-Expression"] == "MIT"


def test_long_description_is_for_users(pure_wheel: Path) -> None:
    """What the package does and how to install it come before contributor commands."""
    body = _metadata(pure_wheel).get_payload()
    assert isinstance(body, str)
    assert _metadata(pure_wheel)["Description-Content-Type"].startswith("text/markdown")
    first_para = body.split("\n\n")[1]
    assert "WebSocket" in first_para and "Falcon" in first_para
    install = body.index("pip install falcon-pachinko")
    assert install < body.index("make test")
    assert "make demo" not in body.split("\n\n", 2)[1]


def test_pure_wheel_contents(pure_wheel: Path) -> None:
    with zipfile.ZipFile(pure_wheel) as zf:
        names = set(zf.namelist())
    assert "falcon_pachinko/py.typed" in names
    assert "falcon_pachinko/testing/plugin.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]


def test_pure_wheel_refuses_native_with_the_reason(pure_wheel: Path, tmp_path: Path) -> None:
    """The pure wheel unpacked alone: ``native`` says what is missing, ``auto`` runs pure."""
    with zipfile.ZipFile(pure_wheel) as zf:
        zf.extractall(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "FALCON_PACHINKO_IMPL": "native"}
    probe = [sys.executable, "-c", "import falcon_pachinko as fp; print(fp.IMPLEMENTATION)"]
    proc = subprocess.run(
        probe, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode != 0
    assert "the native extension (falcon_pachinko._native) is not installed" in proc.stderr
    assert "circular import" not in proc.stderr
    env["FALCON_PACHINKO_IMPL"] = "auto"
    proc = subprocess.run(
        probe, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout.split() == ["pure"], proc.stderr


@pytest.mark.parametrize(
    ("value", "cargo", "pure"),
    [
        ("", True, False),
        ("0", True, False),
        ("1", True, True),
        ("yes", True, True),
        ("", False, True),
    ],
)
def test_sdist_backend_chooses_pure_when_asked_or_without_cargo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, cargo: bool, pure: bool
) -> None:
    monkeypatch.setenv(pachinko_build.PURE_ENV, value)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    if cargo:
        (bindir / "cargo").write_text("#!/bin/sh\n")
        (bindir / "cargo").chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    assert (pachinko_build.pure_reason() is not None) is pure
    wanted = pachinko_build.SETUPTOOLS if pure else pachinko_build.MATURIN
    assert pachinko_build.get_requires_for_build_wheel() == [wanted]


def test_sdist_backend_rejects_a_bogus_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pachinko_build.PURE_ENV, "maybe")
    with pytest.raises(ValueError, match="FALCON_PACHINKO_PURE"):
        pachinko_build.pure_reason()


def test_build_system_uses_the_in_tree_backend() -> None:
    system = PYPROJECT["build-system"]
    assert system["build-backend"] == "pachinko_build"
    assert system["backend-path"] == ["scripts"]
    includes = PYPROJECT["tool"]["maturin"]["include"]
    assert {"path": "scripts/pachinko_build.py", "format": "sdist"} in includes


def test_sdist_without_cargo_says_what_works(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="needs cargo on PATH"):
        pachinko_build.build_sdist(str(tmp_path))

"""PEP 517 build backend: maturin when Rust is there, else a pure-Python wheel.

``pyproject.toml`` names this module (``backend-path = ["scripts"]``) so one
sdist installs everywhere: with ``cargo`` on ``PATH`` the build is delegated,
hook by hook, to maturin and the wheel carries the native extension; with
``FALCON_PACHINKO_PURE=1`` or no ``cargo`` it builds the pure-Python wheel
(setuptools, from a staged copy of the package without compiled files) and
says so on stderr and in the wheel's summary. Without this backend maturin
would try to download a Rust toolchain (puccinialin) and fail offline.

``scripts/build_pure_wheel.py`` uses :func:`build_pure_wheel` too, so ``make
wheel``'s ``py3-none-any`` wheel and a pure sdist install are built the same
way. The module imports maturin and setuptools lazily: a frontend installs
only what :func:`get_requires_for_build_wheel` asked for.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PURE_ENV = "FALCON_PACHINKO_PURE"
MATURIN = "maturin>=1.7,<2"
SETUPTOOLS = "setuptools>=77"  # PEP 639 license expressions
PURE_SUFFIX = " (pure-Python build)"
# The staged project is plain setuptools; these tables are all it adds.
_SETUPTOOLS_TABLES = """
[tool.setuptools.packages.find]
where = ["python"]
include = ["falcon_pachinko*"]

[tool.setuptools.package-data]
falcon_pachinko = ["py.typed"]
"""

ConfigSettings = Mapping[str, Any] | None


def pure_reason() -> str | None:
    """Why this build must be pure, or ``None`` to build the native extension."""
    raw = os.environ.get(PURE_ENV, "")
    flag = raw.strip().lower()
    if flag in ("1", "true", "yes"):
        return f"{PURE_ENV}={raw}"
    if flag not in ("", "0", "false", "no"):
        raise ValueError(f"{PURE_ENV}={raw!r} is not valid; use 1 (pure) or 0 / unset (auto)")
    if shutil.which("cargo") is None:
        return "no Rust toolchain (cargo) on PATH"
    return None


def _announce(reason: str) -> None:
    # pip shows a backend's output only with -v or on failure; the wheel's
    # summary (``pip show``) and falcon_pachinko.IMPLEMENTATION say it too.
    print(
        f"falcon-pachinko: building the pure-Python wheel ({reason}); "
        "FALCON_PACHINKO_IMPL=auto will use the pure implementation",
        file=sys.stderr,
        flush=True,
    )


def _stage(root: Path, dest: Path) -> Path:
    """A setuptools project at ``dest`` holding the package minus compiled files."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    project = tomllib.loads(text)["project"]
    shutil.copytree(
        root / "python" / "falcon_pachinko",
        dest / "python" / "falcon_pachinko",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "_native.pyi"),
    )
    readme = project.get("readme")
    extra_files = [readme] if isinstance(readme, str) else []
    extra_files += project.get("license-files", [])
    for name in extra_files:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / name, dest / name)
    # The description is a single TOML basic string (pinned by a packaging test).
    text, count = re.subn(
        r'^(description = ".*)"$', rf'\1{PURE_SUFFIX}"', text, count=1, flags=re.M
    )
    if count != 1:
        raise RuntimeError('pyproject.toml: expected one `description = "..."` line')
    (dest / "pyproject.toml").write_text(text + _SETUPTOOLS_TABLES, encoding="utf-8")
    return dest


def build_pure_wheel(wheel_directory: str, root: Path | None = None) -> str:
    """Build the ``py3-none-any`` wheel of the tree at ``root`` (default: cwd)."""
    from setuptools import build_meta  # type: ignore[import-untyped]

    source = (root or Path.cwd()).resolve()
    out = str(Path(wheel_directory).resolve())
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="pachinko-pure-") as tmp:
        stage = _stage(source, Path(tmp))
        os.chdir(stage)  # setuptools builds the project in the current directory
        try:
            return str(build_meta.build_wheel(out))
        finally:
            os.chdir(here)


# --- PEP 517 hooks -------------------------------------------------------


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    return [SETUPTOOLS] if pure_reason() else [MATURIN]


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    return [MATURIN]


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> list[str]:
    return [MATURIN]


def build_wheel(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    reason = pure_reason()
    if reason is not None:
        _announce(reason)
        return build_pure_wheel(wheel_directory)
    import maturin  # type: ignore[import-untyped]

    # No prepare_metadata hook is offered, so metadata_directory is always None.
    return str(maturin.build_wheel(wheel_directory, config_settings))


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    if shutil.which("cargo") is None:
        # maturin reads the crate through cargo even for an sdist, and would
        # otherwise try to download a toolchain: say what works instead.
        raise RuntimeError(
            "building the falcon-pachinko sdist needs cargo on PATH; without Rust, "
            "build the pure wheel directly (python -m build --wheel, or pip install .)"
        )
    import maturin

    return str(maturin.build_sdist(sdist_directory, config_settings))


def build_editable(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    reason = pure_reason()
    if reason is not None:
        raise RuntimeError(
            f"an editable install needs the Rust toolchain ({reason}); for pure-Python "
            "development put python/ on PYTHONPATH instead"
        )
    import maturin

    return str(maturin.build_editable(wheel_directory, config_settings))

"""Build the pure-Python ``py3-none-any`` wheel (no compiled module).

maturin builds the abi3 wheel; this builds its fallback twin from the same
sources with setuptools, so platforms without a prebuilt wheel still get a
working (pure) falcon-pachinko.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(out: str) -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(
            ROOT / "python" / "falcon_pachinko",
            work / "falcon_pachinko",
            ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "_native.pyi"),
        )
        shutil.copy(ROOT / "README.md", work / "README.md")
        deps = ", ".join(repr(d) for d in meta["dependencies"])
        extras = {k: v for k, v in meta.get("optional-dependencies", {}).items() if k != "dev"}
        (work / "pyproject.toml").write_text(
            "[build-system]\n"
            'requires = ["setuptools>=68"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            "[project]\n"
            f'name = "{meta["name"]}"\nversion = "{meta["version"]}"\n'
            f'description = "{meta["description"]} (pure-Python build)"\n'
            'readme = "README.md"\n'
            f'requires-python = "{meta["requires-python"]}"\n'
            f"dependencies = [{deps}]\n\n"
            "[project.optional-dependencies]\n"
            + "".join(f"{k} = {v!r}\n" for k, v in extras.items())
            + "\n[project.entry-points.pytest11]\n"
            + 'falcon_pachinko = "falcon_pachinko.testing.plugin"\n\n'
            '[tool.setuptools.packages.find]\ninclude = ["falcon_pachinko*"]\n\n'
            '[tool.setuptools.package-data]\nfalcon_pachinko = ["py.typed"]\n'
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "-w",
                str(Path(out).resolve()),
                str(work),
            ],
            check=True,
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dist")

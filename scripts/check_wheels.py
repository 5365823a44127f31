"""Check what ``make wheel`` built, as a user would meet it.

* ``dist/native``: one ``cp311-abi3-manylinux_2_17`` (or older policy) wheel,
  confirmed by ``auditwheel show``;
* ``dist/pure``: one ``py3-none-any`` wheel;
* ``dist/sdist``: one sdist.

Each wheel is installed into a fresh virtualenv outside the tree with
``--only-binary=:all:`` and runs ``wheel_smoke.py`` (routing, dispatch,
broadcast through a real ``falcon.asgi.App``); the pure wheel must also
refuse ``FALCON_PACHINKO_IMPL=native`` with the "not installed" message. The
sdist is installed with ``PATH`` stripped of ``cargo`` and must report a pure
build; with ``--full`` it is also built with Rust and must load native (a
release compile, so it is kept out of ``make test``). Then ``twine check``
and the release workflow's schema check.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "scripts" / "wheel_smoke.py"
BIN = Path(sys.executable).parent
# maturin writes both spellings of the policy: manylinux2014 and manylinux_2_17.
NATIVE_TAG = re.compile(r"-cp311-abi3-(?:manylinux\w*\.)?manylinux_2_(\d+)_x86_64\.whl$")
NOT_INSTALLED = "the native extension (falcon_pachinko._native) is not installed"
PURE_NOTICE = "building the pure-Python wheel"
INSTALL_TIMEOUT = 900  # a release build of the crate from the sdist, on a busy machine


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise SystemExit(f"expected exactly one {pattern} in {folder}, found {found}")
    return found[0]


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("timeout", INSTALL_TIMEOUT)
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def _venv(where: Path) -> Path:
    _run([sys.executable, "-m", "venv", str(where)])
    return where / "bin" / "python"


def _smoke(py: Path, expected: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    # cwd outside the tree, so the installed package is what is imported.
    _run([str(py), str(SMOKE), expected], cwd=cwd, env=env)


def check_native_wheel(wheel: Path) -> None:
    match = NATIVE_TAG.search(wheel.name)
    if not match or int(match.group(1)) > 17:
        raise SystemExit(f"{wheel.name}: want cp311-abi3-manylinux_2_17_x86_64 or older")
    shown = _run([str(BIN / "auditwheel"), "show", str(wheel)], capture_output=True).stdout
    print(shown.strip())
    policy = re.search(r'platform tag:\s*"manylinux_2_(\d+)_x86_64"', shown)
    if not policy or int(policy.group(1)) > 17:
        raise SystemExit(f"auditwheel does not find {wheel.name} manylinux_2_17-compatible")


def install_wheel(wheel: Path, expected: str, tmp: Path) -> None:
    py = _venv(tmp / f"venv-{expected}")
    # --find-links the wheel's own folder: pip must pick our wheel from a
    # folder with nothing else of ours in it, and fetch the dependencies as
    # binaries too.
    pip = [str(py), "-m", "pip", "install", "--quiet", "--only-binary=:all:"]
    _run([*pip, "--find-links", str(wheel.parent), "falcon-pachinko"])
    _smoke(py, expected, tmp)
    if expected == "pure":
        env = {**os.environ, "FALCON_PACHINKO_IMPL": "native"}
        proc = subprocess.run(
            [str(py), "-c", "import falcon_pachinko"],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode == 0 or NOT_INSTALLED not in proc.stderr:
            raise SystemExit(f"pure wheel + FALCON_PACHINKO_IMPL=native: {proc.stderr}")
        print("pure wheel refuses FALCON_PACHINKO_IMPL=native: ok")


def _path_without_cargo() -> str:
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    keep = [d for d in keep if not (Path(d) / "cargo").exists()]
    return os.pathsep.join(keep)


def install_sdist(sdist: Path, expected: str, tmp: Path) -> None:
    py = _venv(tmp / f"sdist-{expected}")
    env = dict(os.environ)
    env.pop("FALCON_PACHINKO_PURE", None)
    if expected == "pure":
        env["PATH"] = _path_without_cargo()
        if shutil.which("cargo", path=env["PATH"]):
            raise SystemExit("could not hide cargo from PATH")
    started = time.monotonic()
    proc = _run(
        [str(py), "-m", "pip", "install", "-v", str(sdist)],
        env=env,
        capture_output=True,
    )
    took = time.monotonic() - started
    if expected == "pure" and PURE_NOTICE not in proc.stdout + proc.stderr:
        raise SystemExit(f"sdist without cargo did not say it built pure:\n{proc.stderr}")
    print(f"sdist installed ({expected}) in {took:.0f} s")
    env.pop("FALCON_PACHINKO_IMPL", None)
    _smoke(py, expected, tmp, env)


def check_classifiers() -> None:
    """PyPI rejects an upload with an unknown trove classifier; twine does not check."""
    import tomllib

    from trove_classifiers import classifiers as known

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    unknown = [c for c in project["classifiers"] if c not in known]
    if unknown:
        raise SystemExit(f"pyproject.toml: unknown trove classifiers {unknown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", nargs="?", default="dist", type=Path)
    parser.add_argument("--full", action="store_true", help="also build the sdist with Rust")
    args = parser.parse_args()
    dist: Path = args.dist.resolve()
    native = _one(dist / "native", "*.whl")
    pure = _one(dist / "pure", "*-py3-none-any.whl")
    sdist = _one(dist / "sdist", "*.tar.gz")
    check_native_wheel(native)
    check_classifiers()
    _run([str(BIN / "twine"), "check", "--strict", str(native), str(pure), str(sdist)])
    workflow = ROOT / ".github" / "workflows" / "release.yml"
    schema = ["--builtin-schema", "vendor.github-workflows", str(workflow)]
    _run([str(BIN / "check-jsonschema"), *schema])
    with tempfile.TemporaryDirectory(prefix="pachinko-wheels-") as name:
        tmp = Path(name)
        install_wheel(native, "native", tmp)
        install_wheel(pure, "pure", tmp)
        install_sdist(sdist, "pure", tmp)
        if args.full:
            install_sdist(sdist, "native", tmp)
    print("wheel checks passed")


if __name__ == "__main__":
    main()

"""Install each built wheel into a fresh virtualenv outside the tree and check it.

The abi3 wheel must load the native module; the ``py3-none-any`` wheel must
run pure. Each runs the same smoke test: a frame scanned, a handler
dispatched through Falcon's ASGI app, a broadcast delivered.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

SMOKE = r"""
import asyncio, sys
import falcon_pachinko as fp
from falcon_pachinko import _accel
expected = sys.argv[1]
assert fp.IMPLEMENTATION == expected, (fp.IMPLEMENTATION, expected)
assert ('falcon_pachinko._native' in sys.modules) == (expected == 'native')
assert _accel.scan_frame('{"type":"ping","payload":[1]}') == ('ping', b'[1]')
print('wheel ok:', fp.__name__, fp.IMPLEMENTATION)
"""


def check(wheel: Path, expected: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        py = venv / "bin" / "python"
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
        subprocess.run([str(py), "-c", SMOKE, expected], check=True, cwd=tmp)


def main(dist: str) -> None:
    wheels = sorted(Path(dist).glob("*.whl"))
    native = [w for w in wheels if "abi3" in w.name]
    pure = [w for w in wheels if w.name.endswith("py3-none-any.whl")]
    if len(native) != 1 or len(pure) != 1:
        raise SystemExit(f"expected one abi3 and one py3-none-any wheel in {dist}, got {wheels}")
    check(native[0], "native")
    check(pure[0], "pure")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dist")

"""Build the pure-Python ``py3-none-any`` wheel (no compiled module) into a folder.

maturin builds the abi3 wheel; this builds its fallback twin from the same
sources through the in-tree build backend's pure path (the one an sdist
takes without a Rust toolchain), so both are built the same way.
Usage: ``python scripts/build_pure_wheel.py [OUT_DIR]`` (default ``dist/pure``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pachinko_build import build_pure_wheel

ROOT = Path(__file__).resolve().parent.parent


def main(out: str) -> None:
    Path(out).mkdir(parents=True, exist_ok=True)
    print(Path(out) / build_pure_wheel(out, root=ROOT))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dist/pure")

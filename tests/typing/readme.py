"""The README's ``python`` code blocks, by section, as files and modules.

Shared by the tests that run the snippets (``tests/unit/test_readme_examples.py``)
and the one that type-checks them (``test_mypy.py``), so both see exactly the
text a reader copies.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

# Sections whose snippets are runnable as written and checked. A section added
# here is type-checked by test_mypy.py at once.
CHECKED_SECTIONS = {
    "Quick start": "readme_quick_start",
    "Workers and lifespan": "readme_workers",
    "Rooms and broadcast": "readme_rooms",
}

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def section(title: str) -> str:
    """The text of the ``## title`` section, its ``###`` subsections included."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def block(title: str) -> str:
    """The one ``python`` block of section ``title`` (an error if not exactly one)."""
    blocks = _BLOCK.findall(section(title))
    if len(blocks) != 1:
        raise AssertionError(f"README section {title!r} has {len(blocks)} python blocks, not 1")
    return str(blocks[0])


def write_blocks(directory: Path) -> list[Path]:
    """Each checked section's block as ``<module name>.py`` in ``directory``."""
    paths = []
    for title, name in CHECKED_SECTIONS.items():
        path = directory / f"{name}.py"
        path.write_text(block(title), encoding="utf-8")
        paths.append(path)
    return paths


def load(title: str, directory: Path) -> ModuleType:
    """Import section ``title``'s block as a fresh module (as ``uvicorn myapp:app`` would).

    Registered in ``sys.modules`` while in use so that annotations resolve
    against its globals; the caller removes it (see :func:`unload`).
    """
    name = CHECKED_SECTIONS[title]
    path = directory / f"{name}.py"
    path.write_text(block(title), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unload(module: ModuleType) -> None:
    sys.modules.pop(module.__name__, None)

"""The documentation site's API reference covers every public name.

``make docs`` (mkdocs --strict) fails on a directive that does not resolve;
this test fails on a name exported by the package root that the reference
leaves out, so a new export cannot ship undocumented.
"""

from __future__ import annotations

import re
from pathlib import Path

import falcon_pachinko

DOCS = Path(__file__).resolve().parents[2] / "docs"
DIRECTIVE = re.compile(r"^::: falcon_pachinko\.(\w+)\s*$", re.M)


def test_every_root_export_is_in_the_api_reference() -> None:
    documented = set(DIRECTIVE.findall((DOCS / "reference" / "api.md").read_text()))
    missing = sorted(set(falcon_pachinko.__all__) - documented)
    assert not missing, f"add to docs/reference/api.md: {missing}"
    stale = sorted(documented - set(falcon_pachinko.__all__))
    assert not stale, f"docs/reference/api.md documents names the root does not export: {stale}"


def test_every_guide_page_is_in_the_nav() -> None:
    nav = (DOCS.parent / "mkdocs.yml").read_text()
    for page in sorted((DOCS / "guide").glob("*.md")):
        assert f"guide/{page.name}" in nav, page.name

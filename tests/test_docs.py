"""The README and docs/ hang together: a first screen that fits, every page linked, every
relative link resolving."""

import re

from conftest import REPO

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_first_screen_fits_in_40_lines():
    lines = (REPO / "README.md").read_text().splitlines()
    first = lines[: lines.index("---")]
    assert len(first) <= 40
    text = "\n".join(first)
    for command in ("snakemake --cores 2", "pip install -e '.[test]' && pytest", "--report"):
        assert command in text, command
    assert "interpolation threshold (IT)" in text


def test_every_docs_page_is_linked_and_every_relative_link_resolves():
    readme = (REPO / "README.md").read_text()
    pages = sorted((REPO / "docs").glob("*.md"))
    assert pages
    for page in pages:
        assert f"(docs/{page.name})" in readme, page.name
    for document in [REPO / "README.md", *pages]:
        for target in LINK.findall(document.read_text()):
            if "://" not in target:
                assert (document.parent / target).exists(), f"{document.name}: {target}"

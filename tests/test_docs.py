"""The README stays a short front door, and it and the pages in docs/ link to what exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
README = BASE_DIR / "README.md"
DOCS = BASE_DIR / "docs"
README_MAX_LINES = 300

# `[text](target)` and `![alt](target)`, with an optional "title" after the target.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose(text: str) -> str:
    """The text without code blocks and code spans, where a bracket is no link."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text()))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def test_the_readme_is_under_300_lines():
    lines = README.read_text().splitlines()

    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_docs_has_pages():
    assert sorted(DOCS.glob("*.md")), "docs/ holds no page"


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda page: page.name)
def test_every_docs_page_is_linked_from_the_readme(page):
    targets = {
        (README.parent / unquote(target.split("#")[0])).resolve()
        for target in links(README)
        if not EXTERNAL.match(target) and not target.startswith("#")
    }

    assert page.resolve() in targets, f"README.md does not link docs/{page.name}"


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda page: page.name)
def test_every_docs_page_starts_with_a_title_and_links_back_to_the_readme(page):
    text = page.read_text()

    assert text.startswith("# "), f"docs/{page.name} does not start with a # title"
    assert "../README.md" in links(page), f"docs/{page.name} does not link back to the README"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_every_relative_link_points_to_an_existing_file(path):
    broken = []
    for target in links(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target} (no such heading)")

    assert not broken, f"{path.relative_to(BASE_DIR)}: broken links: {broken}"

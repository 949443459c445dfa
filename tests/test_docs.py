"""The README stays a user's page, and no link in it or in docs/ points at a file that is not there."""

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")  # [text](target) and ![alt](target); anchors dropped


def local_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(page.read_text()) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_local_link_resolves(page):
    missing = [target for target in local_links(page) if not (page.parent / target).exists()]
    assert not missing, f"{page.relative_to(REPO_ROOT)}: no such file: {', '.join(missing)}"


def test_the_readme_is_short_and_links_every_doc():
    readme = REPO_ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= 250
    linked = {Path(target).name for target in local_links(readme) if target.startswith("docs/") and target.endswith(".md")}
    assert linked == {page.name for page in PAGES[1:]}, "docs/ pages the README does not link: " + ", ".join(
        sorted({page.name for page in PAGES[1:]} - linked)
    )


def test_the_link_pattern_finds_links_and_images():
    # The oracle for the two tests above: a pattern that matched nothing would pass them vacuously.
    sample = "See [hosting](docs/hosting.md#runs), ![shot](docs/screenshots/a.jpg) and [site](https://example.org)."
    assert LINK.findall(sample) == ["docs/hosting.md", "docs/screenshots/a.jpg", "https://example.org"]

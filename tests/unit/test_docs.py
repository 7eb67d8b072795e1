"""The documentation lives in the repository and follows the code (issue 15, point 8): nothing points outside the
repository, the README's table of contents leads somewhere and in a newcomer's order, every rule the code cites
exists in docs/rules.md, and Aideur's French guide shows every command the parser knows."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from mailbot.parsers.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# Built here rather than written out, so that this file does not name what it forbids.
OUTSIDE = ("../" + "shared", "/work" + "/", "DESIGN" + ".md")


def prose_files() -> list[Path]:
    """The repository's own text: documentation, code, tests and benches (comments and docstrings included)."""
    files = [README, ROOT / "CHANGELOG.md", *DOCS.glob("*.md"), *ROOT.glob("bench/*.md")]
    for folder in ("mailbot", "tests", "bench"):
        files += (ROOT / folder).rglob("*.py")
    return [path for path in files if path.is_file()]


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces made hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(path: Path) -> list[str]:
    lines, fence = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"#{1,4} ", line):
            lines.append(line.lstrip("#").strip())
    return lines


def contents_links() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"\]\(#([^)]+)\)", block)


def test_nothing_points_outside_the_repository() -> None:
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in prose_files()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if any(word in line for word in OUTSIDE)]
    assert found == []


def test_the_architecture_rules_and_guide_are_in_docs() -> None:
    for name in ("architecture.md", "rules.md", "guide-aideur.md", "devserver.md"):
        assert (DOCS / name).is_file(), name
    readme = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).is_file(), target


def test_every_contents_link_reaches_a_heading() -> None:
    anchors = {anchor(heading) for heading in headings(README)}
    links = contents_links()
    assert len(links) >= 10
    assert [link for link in links if link not in anchors] == []


def test_the_readme_is_in_a_newcomers_order() -> None:
    """What it is, quick start, running it for real (providers), Aideur's guide, members' view, operations,
    development: each part after the one before."""
    wanted = ["quick-start", "running-it-for-real", "mail-providers", "aideurs-guide", "members-view", "operations",
              "development"]
    found = [anchor(heading) for heading in headings(README)]
    positions = [next(i for i, a in enumerate(found) if a.startswith(part)) for part in wanted]
    assert positions == sorted(positions)
    links = contents_links()
    assert [next(i for i, link in enumerate(links) if link.startswith(part)) for part in wanted] == \
        sorted(next(i for i, link in enumerate(links) if link.startswith(part)) for part in wanted)


def test_every_rule_the_code_cites_exists() -> None:
    sections = {m.group(1) for m in re.finditer(r"^## §(\d+) ", (DOCS / "rules.md").read_text(encoding="utf-8"),
                                                re.MULTILINE)}
    architecture = {anchor(heading) for heading in headings(DOCS / "architecture.md")}
    missing = []
    for path in prose_files():
        text = path.read_text(encoding="utf-8")
        for cited in re.finditer(r"docs/rules\.md((?: ?,? ?§\d+)+)", text):
            missing += [f"{path.name}: §{n}" for n in re.findall(r"§(\d+)", cited.group(1)) if n not in sections]
        for cited in re.finditer(r"docs/architecture\.md, \"([^\"]+)\"", text):
            if anchor(cited.group(1)) not in architecture:
                missing.append(f"{path.name}: {cited.group(1)}")
    assert missing == []


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_aideurs_guide_shows_every_command(command: str) -> None:
    guide = _fold((DOCS / "guide-aideur.md").read_text(encoding="utf-8"))
    assert f"#{command}" in guide

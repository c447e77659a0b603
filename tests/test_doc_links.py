"""The README and docs/ stand alone: every link (and every document named in code) points at a file the
repository holds, and every #anchor at a heading of that file; nothing outside the repository."""

import re
from pathlib import Path

from support import ROOT

DOCUMENTS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
NAMED_DOCUMENT = re.compile(r"`([^`\s]+\.md)(#[^`\s]*)?`")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}


def _problem(source: Path, target: str, code: bool) -> str | None:
    if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
        return "a link out of the repository"
    path, _, anchor = target.partition("#")
    if not path:
        found = source
    else:
        # A link is relative to its file; a document named in code may also be named from the root.
        candidates = [(source.parent / path).resolve(), *([(ROOT / path).resolve()] if code else [])]
        inside = [c for c in candidates if c.is_relative_to(ROOT)]
        if not inside:
            return "a path outside the repository"
        found = next((c for c in inside if c.exists()), None)
        if found is None:
            return "a missing file"
    if anchor and found.suffix == ".md" and anchor not in _anchors(found):
        return f"no heading #{anchor} in {found.relative_to(ROOT)}"
    return None


def test_the_documents_link_only_what_the_repository_holds():
    problems = []
    for source in DOCUMENTS:
        text = FENCE.sub("", source.read_text(encoding="utf-8"))
        targets = [(m.group(1), False) for m in LINK.finditer(text)]
        targets += [(m.group(1) + (m.group(2) or ""), True) for m in NAMED_DOCUMENT.finditer(text)]
        for target, code in targets:
            problem = _problem(source, target, code)
            if problem:
                problems.append(f"{source.relative_to(ROOT)}: {target}: {problem}")
    assert not problems, "\n".join(problems)


def test_the_check_finds_what_it_should(tmp_path):
    readme = ROOT / "README.md"
    assert _problem(readme, "../shared/DESIGN.md", code=True) == "a path outside the repository"
    assert _problem(readme, "docs/nothing-here.md", code=False) == "a missing file"
    assert _problem(readme, "https://example.org/", code=False) == "a link out of the repository"
    assert _problem(readme, "docs/design.md#no-such-heading", code=False).startswith("no heading")
    assert _problem(readme, "docs/design.md#the-plugin-contract", code=False) is None

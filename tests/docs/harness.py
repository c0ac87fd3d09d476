"""The doc-test harness: finds the fenced blocks of README.md and docs/*.md marked runnable, and the links
between the documents.

A block is runnable when the line before its opening fence is an HTML comment starting ``doctest``, which
GitHub does not render::

    <!-- doctest expect="voiceCallId" expect="errors" -->
    ```bash
    curl -s ...
    ```

``expect="…"`` (repeatable) is a substring its output must contain; the block must exit with status 0.
``bash`` blocks of one document run in order and share their shell variables (``TOKEN=…`` in one block is
``$TOKEN`` in the next), as a reader's terminal would; ``python`` blocks each run alone, as pasted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOC_URL = "http://127.0.0.1:8080"  # the address the documents use; the harness's server answers elsewhere

_MARKER = re.compile(r"^\s*<!--\s*doctest\b(?P<options>.*?)-->\s*$")
_EXPECT = re.compile(r'expect="(?P<text>[^"]*)"')
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+)(?P<info>[\w+-]*)\s*$")
_LINK = re.compile(r"(?<!\\)\[(?:[^\[\]]|\[[^\]]*\])*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    expect: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def blocks(document: Path) -> list[Block]:
    """The runnable blocks of a document, in order."""
    lines = document.read_text().splitlines()
    found: list[Block] = []
    for index, line in enumerate(lines):
        marker = _MARKER.match(line)
        if marker is None or index + 1 >= len(lines):
            continue
        fence = _FENCE.match(lines[index + 1])
        if fence is None:
            raise ValueError(f"{document.name}:{index + 1}: a doctest marker must stand right before a fence")
        indent, closing = len(fence["indent"]), fence["fence"]
        body: list[str] = []
        for inner in lines[index + 2 :]:
            if inner.strip() == closing:
                break
            body.append(inner[indent:] if not inner[:indent].strip() else inner.lstrip())
        expect = tuple(m["text"] for m in _EXPECT.finditer(marker["options"]))
        found.append(Block(document, index + 2, fence["info"] or "text", "\n".join(body) + "\n", expect))
    return found


def all_blocks() -> list[Block]:
    return [block for document in DOCUMENTS for block in blocks(document)]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: markup dropped, lower case, punctuation other than ``-`` and ``_`` removed,
    spaces made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "").lower()
    kept = "".join(ch for ch in text if ch in "-_ " or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    """Every heading's anchor (repeated headings get ``-1``, ``-2``…), fenced code left out."""
    seen: dict[str, int] = {}
    result: set[str] = set()
    in_fence = False
    for line in document.read_text().splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading["text"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(document: Path) -> list[tuple[int, str]]:
    """(line, target) of every Markdown link outside fenced code."""
    found: list[tuple[int, str]] = []
    in_fence = False
    for number, line in enumerate(document.read_text().splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            found.extend((number, m["target"]) for m in _LINK.finditer(re.sub(r"`[^`]*`", "", line)))
    return found


def broken_link(document: Path, target: str) -> str | None:
    """Why an intra-doc link does not resolve (a missing file or anchor); None when it does or is external."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
        return None  # http:, https:, mailto:
    path, _, anchor = target.partition("#")
    resolved = (document.parent / path).resolve() if path else document
    if not resolved.exists():
        return f"{target}: no file {resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else resolved}"
    if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
        return f"{target}: {resolved.name} has no heading with the anchor #{anchor}"
    return None

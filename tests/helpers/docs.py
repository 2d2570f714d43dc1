"""Reading the guides as GitHub renders them: fenced blocks, inline code spans, headings and their anchors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BACKTICKS = re.compile(r"`+")


def doc_files() -> list[Path]:
    """The front page and every guide."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    """A fenced code block: its info word (``bash``, ``yaml``, ...), first content line number and lines."""

    language: str
    line: int
    lines: list[str]


@dataclass(frozen=True)
class Prose:
    """A line outside fenced code blocks."""

    line: int
    text: str


def parse(text: str) -> tuple[list[Block], list[Prose]]:
    """Split a Markdown file into its fenced code blocks and the lines outside them."""
    blocks: list[Block] = []
    prose: list[Prose] = []
    fence: tuple[str, str, int, list[str]] | None = None  # marker, language, first line, lines
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = (match.group(1), match.group(2).lower(), number + 1, [])
        elif fence is not None and _closes(line, fence[0]):
            blocks.append(Block(fence[1], fence[2], fence[3]))
            fence = None
        elif fence is not None:
            fence[3].append(line)
        else:
            prose.append(Prose(number, line))
    return blocks, prose


def _closes(line: str, marker: str) -> bool:
    """Whether ``line`` closes the block ``marker`` opened: as many fence characters or more, nothing else."""
    stripped = line.strip()
    return stripped.startswith(marker) and set(stripped) == {marker[0]}


def code_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, content)`` of each inline code span (CommonMark: a run of n backticks closes at the
    next run of exactly n; one space each side is stripped when both are there)."""
    runs = list(_BACKTICKS.finditer(text))
    used = -1
    for i, opener in enumerate(runs):
        if opener.start() < used:
            continue
        closer = next((run for run in runs[i + 1 :] if len(run.group()) == len(opener.group())), None)
        if closer is None:
            continue
        content = text[opener.end() : closer.start()]
        if content.startswith(" ") and content.endswith(" ") and content.strip():
            content = content[1:-1]
        yield opener.start(), closer.end(), content
        used = closer.end()


def without_code(text: str) -> str:
    """``text`` with each inline code span replaced by spaces (links inside code are not links)."""
    for start, end, _ in reversed(list(code_spans(text))):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def heading_slugs(prose: list[Prose]) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to hyphens, -1 on repeats."""
    slugs: set[str] = set()
    for item in prose:
        match = _HEADING.match(item.text)
        if not match:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2)).replace("`", "")
        base = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        slug, n = base, 0
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
    return slugs

"""The guides stay true: their links and images resolve, and every ``recurrent-rl`` command in them parses.

A command is a line starting with ``recurrent-rl `` (or ``$ recurrent-rl ``) in a ``bash`` code block, or an
inline code span starting so. Backslash continuations are joined, ``# comments`` dropped, and ``&&``, ``||``,
``;`` and ``|`` separate commands. An inline span of just ``recurrent-rl COMMAND`` names a command, which
must exist. Output such as ``recurrent-rl: error: ...`` has no space after the program name, so it is never
taken for a command.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from recurrent_rl.cli import build_parser
from recurrent_rl.errors import UserError
from tests.helpers.docs import ROOT, code_spans, doc_files, heading_slugs, parse, without_code

PROGRAM = "recurrent-rl"
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_SEPARATORS = {"&&", "||", ";", "|"}
_REDIRECTS = {">", ">>", "<"}


def _links(path: Path) -> list[tuple[int, str]]:
    """``(line, target)`` of every link and image outside code."""
    _, prose = parse(path.read_text(encoding="utf-8"))
    return [(item.line, m.group(1)) for item in prose for m in _LINK.finditer(without_code(item.text))]


def _slugs(path: Path) -> set[str]:
    return heading_slugs(parse(path.read_text(encoding="utf-8"))[1])


def _link_problem(path: Path, target: str) -> str | None:
    """What is wrong with one relative link of ``path``, or None."""
    file_part, _, anchor = target.partition("#")
    linked = (path.parent / file_part).resolve() if file_part else path
    if not linked.exists():
        return f"{target}: no such file {_shown(linked)}"
    if anchor and linked.suffix == ".md" and anchor not in _slugs(linked):
        return f"{target}: no heading with the anchor #{anchor} in {_shown(linked)}"
    return None


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def _commands(path: Path) -> list[tuple[int, str, bool]]:
    """``(line, text, inline)`` of every command line quoted in ``path`` (see the module docstring)."""
    blocks, prose = parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str, bool]] = []
    for block in (block for block in blocks if block.language == "bash"):
        pending, start = "", block.line
        for offset, line in enumerate(block.lines):
            if not pending:
                start = block.line + offset
            pending += line
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            found.append((start, pending, False))
            pending = ""
    for item in prose:
        found += [(item.line, content, True) for _, _, content in code_spans(item.text)]
    return [(line, text.strip().removeprefix("$ "), inline) for line, text, inline in found if _quoted(text)]


def _quoted(text: str) -> bool:
    text = text.strip().removeprefix("$ ")
    return text.startswith(PROGRAM + " ")


def _segments(text: str) -> list[list[str]]:
    """The commands of one shell line, as argument lists, redirections dropped."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    tokens = iter(lexer)
    for token in tokens:
        if token in _SEPARATORS:
            segments.append([])
        elif token in _REDIRECTS:
            next(tokens, None)
        else:
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def _parse_problem(parser: argparse.ArgumentParser, arguments: list[str], inline: bool) -> str | None:
    """Why ``recurrent-rl ARGUMENTS`` does not parse, or None."""
    commands = _command_names(parser)
    if inline and len(arguments) == 1 and arguments[0] in commands:
        return None  # `recurrent-rl report` names the command
    try:
        parser.parse_args(arguments)
    except UserError as error:
        return str(error)
    except SystemExit as error:  # --help, --version
        return f"exits with {error.code} instead of running"
    return None


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name for action in actions for name in action.choices}


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser()


def test_the_guides_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in doc_files()}
    expected = {"README.md", "docs/README.md", "docs/configuration.md", "docs/cli.md", "docs/development.md"}
    assert expected <= names


@pytest.mark.parametrize("path", doc_files(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_relative_links_and_images_resolve(path: Path) -> None:
    links = [(line, target) for line, target in _links(path) if not _EXTERNAL.match(target)]
    problems = [f"{path.relative_to(ROOT)}:{line}: {p}" for line, t in links if (p := _link_problem(path, t))]
    assert not problems, "broken links:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", doc_files(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_quoted_commands_parse(path: Path, parser: argparse.ArgumentParser) -> None:
    problems = []
    for line, text, inline in _commands(path):
        for segment in _segments(text):
            if segment[0] != PROGRAM:
                continue
            problem = _parse_problem(parser, segment[1:], inline)
            if problem:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {shlex.join(segment)}: {problem}")
    assert not problems, "commands that do not parse:\n" + "\n".join(problems)


def test_enough_links_and_commands_are_checked() -> None:
    """The extraction finds what the guides quote (a broken extractor would pass everything vacuously)."""
    links = sum(len(_links(path)) for path in doc_files())
    commands = sum(len(_commands(path)) for path in doc_files())
    assert links > 60 and commands > 60, (links, commands)


def test_a_broken_link_anchor_and_command_are_caught(tmp_path: Path, parser: argparse.ArgumentParser) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[ok](#title) [missing](other.md) [anchor](#nowhere)\n\n"
        "```bash\nrecurrent-rl evaluate runs/x [--json]   # pseudo-syntax\nrecurrent-rl train a.yaml \\\n"
        "    --seed 3\n```\n\nOutput: `recurrent-rl: error: x`; a name: `recurrent-rl tune`.\n",
        encoding="utf-8",
    )
    problems = [_link_problem(page, target) for _, target in _links(page)]
    assert problems[0] is None and "no such file" in str(problems[1]) and "#nowhere" in str(problems[2])
    commands = _commands(page)
    assert [(line, inline) for line, _, inline in commands] == [(6, False), (7, False), (11, True)]
    results = [_parse_problem(parser, _segments(text)[0][1:], inline) for _, text, inline in commands]
    assert "unrecognized arguments: [--json]" in str(results[0])
    assert results[1:] == [None, None]


def test_front_page_is_short_and_keeps_the_set_up_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    setup = [block.lines for block in parse(text)[0] if block.language == "bash"][0]
    commands = [line.split("#")[0].strip() for line in setup]
    assert commands == ["bash scripts/quickstart.sh", "bash scripts/test.sh"]  # CI runs scripts/test.sh

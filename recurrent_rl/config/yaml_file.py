"""Safe YAML, bounded: every YAML text the package reads (configs, sweep and space files, ``--set`` values).

A file must be a regular file of at most :data:`MAX_BYTES`; the composed document must be a tree (no alias
that contains itself) of at most :data:`MAX_NODES` nodes once its aliases are expanded, at most
:data:`MAX_DEPTH` deep. All of this is checked on the node graph, before any Python object is built, so an
alias bomb ("billion laughs") costs nothing. Numbers are read as YAML 1.2 writes them: ``3e-4`` and ``1e6``
are floats (PyYAML's YAML 1.1 would read them as strings). Nothing in the text is ever evaluated.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from recurrent_rl.errors import UserError

Key = tuple[str, ...]
MAX_BYTES = 1_000_000
MAX_NODES = 100_000  # scalars, sequences and mappings, aliases expanded
MAX_DEPTH = 64


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, with YAML 1.2 floats that have an exponent but no dot (``3e-4``, ``1e6``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_text(path: Path, what: str = "YAML file") -> str:
    """The text of a regular file of at most MAX_BYTES; a device, a FIFO or a huge file is refused unread."""
    try:
        _check_regular(path, os.stat(path).st_mode, what)  # before open: opening a FIFO would block
        with open(path, "rb") as handle:
            _check_regular(path, os.fstat(handle.fileno()).st_mode, what)
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a {what}") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read {what} ({error.strerror or error})") from None
    if len(raw) > MAX_BYTES:
        raise UserError(f"{path}: larger than {MAX_BYTES:,} bytes, expected a {what}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: cannot read {what} (not UTF-8 text: {error.reason})") from None


def _check_regular(path: Path, mode: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise UserError(f"{path}: is a directory, expected a {what}")
    if not stat.S_ISREG(mode):
        raise UserError(f"{path}: not a regular file, expected a {what}")


def load(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """The data of one YAML document and its checked node graph; a UserError at ``where`` if it is bad."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        check_graph(node, where)
        return loader.construct_document(node), node
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark and where else where
        problem = " ".join(str(part) for part in (error.context, error.problem) if part)
        raise UserError(_prefixed(at, f"YAML syntax error: {problem}")) from None
    except yaml.YAMLError as error:
        raise UserError(_prefixed(where, f"YAML error: {error}")) from None
    except RecursionError:
        raise UserError(_prefixed(where, f"YAML nested too deeply (at most {MAX_DEPTH} levels)")) from None
    finally:
        loader.dispose()


def check_graph(root: yaml.Node, where: str) -> None:
    """Refuse an alias that contains itself, and a document larger than MAX_NODES or deeper than MAX_DEPTH
    once its aliases are expanded; each node is visited once, so this costs the size of the text."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(child)] for child in children)
            depth[key] = 1 + max((depth[id(child)] for child in children), default=0)
            if size[key] > MAX_NODES:
                expanded = f"YAML too large once its aliases are expanded (more than {MAX_NODES:,} values)"
                raise UserError(_prefixed(_at(node, where), expanded))
            if depth[key] > MAX_DEPTH:
                deep = f"YAML nested too deeply (at most {MAX_DEPTH} levels)"
                raise UserError(_prefixed(_at(node, where), deep))
            continue
        if key in size:
            continue
        if key in open_nodes:
            cycle = "YAML alias inside the node it refers to (a recursive structure)"
            raise UserError(_prefixed(_at(node, where), cycle))
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _prefixed(where: str, problem: str) -> str:
    return f"{where}: {problem}" if where else problem


def _at(node: yaml.Node, where: str) -> str:
    mark = node.start_mark
    return f"{where}:{mark.line + 1}:{mark.column + 1}" if mark is not None and where else where


def parse_yaml_file(path: Path, what: str = "YAML file") -> tuple[Any, dict[Key, str]]:
    """Safe-load one YAML file (``what`` names it in messages): its data, ``file:line:col`` of each key."""
    data, node = load(read_text(path, what), str(path))
    marks: dict[Key, str] = {}
    if node is not None:
        _collect_marks(node, (), path, marks)
    return data, marks


def parse_value(text: str, where: str) -> Any:
    """A YAML scalar or flow collection given on the command line (``--set KEY=VALUE``)."""
    return load(text, where)[0] if text.strip() else None


def _collect_marks(node: yaml.Node, key: Key, path: Path, marks: dict[Key, str]) -> None:
    if isinstance(node, yaml.SequenceNode):  # list items are keyed by their index: env.wrappers.1
        for index, item in enumerate(node.value):
            child = (*key, str(index))
            marks[child] = f"{path}:{item.start_mark.line + 1}:{item.start_mark.column + 1}"
            _collect_marks(item, child, path, marks)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        name = str(key_node.value)
        child = (*key, name)
        where = f"{path}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
        if name in seen:
            raise UserError(f"{where}: {'.'.join(child)}: duplicate key")
        seen.add(name)
        marks[child] = where
        _collect_marks(value_node, child, path, marks)
